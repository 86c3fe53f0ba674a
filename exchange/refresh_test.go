package exchange

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/pkjwt/pkjwt/provider"
)

// TestRefreshKeepsOrRotates: a rotated refresh token replaces the old one;
// a response without one keeps the old one (RFC 6749 §6), and each refresh
// carries a new assertion.
func TestRefreshKeepsOrRotates(t *testing.T) {
	t.Parallel()
	op := newFakeOP(t)
	c, clk := fakeClient(t, op, Config{})
	responses := []string{
		`{"access_token":"at2","token_type":"Bearer","expires_in":60}`,
		`{"access_token":"at3","token_type":"Bearer","expires_in":60,"refresh_token":"rt2"}`,
		`{"access_token":"at4","token_type":"Bearer","expires_in":60}`,
	}
	n := 0
	op.setRespond(func(url.Values) (int, string) {
		r := responses[n]
		n++
		return 200, r
	})
	ts := c.RefreshTokenSource(&oauth2.Token{AccessToken: "at1", RefreshToken: "rt1", Expiry: clk.Now().Add(-time.Second)}, nil, WithScopes("read"))
	want := []struct{ at, rt string }{{"at2", "rt1"}, {"at3", "rt2"}, {"at4", "rt2"}}
	for i, w := range want {
		tok, err := ts.TokenContext(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if tok.AccessToken != w.at || tok.RefreshToken != w.rt {
			t.Errorf("refresh %d = %q %q, want %q %q", i, tok.AccessToken, tok.RefreshToken, w.at, w.rt)
		}
		clk.Advance(time.Minute)
	}
	reqs := op.requests()
	sent := []string{"rt1", "rt1", "rt2"}
	for i, r := range reqs {
		checkAuth(t, r, "s6BhdRkqt3")
		if r.form.Get("grant_type") != "refresh_token" || r.form.Get("refresh_token") != sent[i] || r.form.Get("scope") != "read" {
			t.Errorf("refresh %d form = %v", i, r.form)
		}
		if i > 0 && r.claims["jti"] == reqs[i-1].claims["jti"] {
			t.Errorf("refresh %d reused a jti", i)
		}
	}
	if ts.IDToken() != nil {
		t.Error("IDToken() without any ID token is not nil")
	}
}

func TestRefreshErrorKeepsToken(t *testing.T) {
	t.Parallel()
	op := newFakeOP(t)
	op.setRespond(func(url.Values) (int, string) { return 400, `{"error":"invalid_grant"}` })
	c, clk := fakeClient(t, op, Config{})
	ts := c.RefreshTokenSource(&oauth2.Token{AccessToken: "at1", RefreshToken: "rt1", Expiry: clk.Now().Add(-time.Second)}, nil)
	for range 2 {
		if _, err := ts.Token(); !errors.Is(err, ErrInvalidGrant) {
			t.Fatalf("error = %v, want %v", err, ErrInvalidGrant)
		}
	}
	reqs := op.requests()
	if len(reqs) != 2 || reqs[1].form.Get("refresh_token") != "rt1" || reqs[0].claims["jti"] == reqs[1].claims["jti"] {
		t.Errorf("after a failed refresh the next one must retry rt1 with a new assertion: %d requests", len(reqs))
	}
}

// TestContinuity: each way a refreshed ID token can break continuity with
// the original (OIDC Core §12.2) matches ErrIDTokenContinuity and its own
// sentinel, and no other's, so that a caller can tell a subject change from
// the rest.
func TestContinuity(t *testing.T) {
	t.Parallel()
	const iss, client = "https://op.example", "s6BhdRkqt3"
	original := &provider.IDToken{Issuer: iss, Subject: "alice", Audience: []string{client}}
	reasons := []error{ErrSubjectChanged, provider.ErrInvalidIssuer, provider.ErrInvalidAudience}
	tests := []struct {
		name     string
		id       provider.IDToken
		original *provider.IDToken
		want     error // nil: no error
	}{
		{name: "same", id: provider.IDToken{Issuer: iss, Subject: "alice", Audience: []string{"other", client}}, original: original},
		{name: "no original", id: provider.IDToken{Issuer: "https://x.example", Subject: "bob", Audience: []string{client}}},
		{name: "another subject", id: provider.IDToken{Issuer: iss, Subject: "bob", Audience: []string{client}}, original: original, want: ErrSubjectChanged},
		{name: "subject differs in case", id: provider.IDToken{Issuer: iss, Subject: "Alice", Audience: []string{client}}, original: original, want: ErrSubjectChanged},
		{name: "another issuer", id: provider.IDToken{Issuer: "https://evil.example", Subject: "alice", Audience: []string{client}}, original: original, want: provider.ErrInvalidIssuer},
		{name: "issuer with trailing slash", id: provider.IDToken{Issuer: iss + "/", Subject: "alice", Audience: []string{client}}, original: original, want: provider.ErrInvalidIssuer},
		{name: "aud without the client", id: provider.IDToken{Issuer: iss, Subject: "alice", Audience: []string{"other"}}, original: original, want: provider.ErrInvalidAudience},
		{name: "aud without the client, no original", id: provider.IDToken{Issuer: iss, Subject: "alice"}, want: provider.ErrInvalidAudience},
	}
	for _, tc := range tests {
		err := continuity(&tc.id, tc.original, client)
		if tc.want == nil {
			if err != nil {
				t.Errorf("continuity(%q) error = %v, want nil", tc.name, err)
			}
			continue
		}
		if !errors.Is(err, ErrIDTokenContinuity) || !errors.Is(err, tc.want) {
			t.Errorf("continuity(%q) error = %v, want %v and %v", tc.name, err, ErrIDTokenContinuity, tc.want)
		}
		for _, r := range reasons {
			if r != tc.want && errors.Is(err, r) {
				t.Errorf("continuity(%q) error = %v, also matches %v", tc.name, err, r)
			}
		}
		if strings.Contains(err.Error(), "alice") || strings.Contains(err.Error(), "bob") {
			t.Errorf("continuity(%q) error %q names a subject", tc.name, err)
		}
	}
}
