package exchange_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkjwt/pkjwt/exchange"
	"github.com/pkjwt/pkjwt/provider/providertest"
)

func TestRevokeIntrospect(t *testing.T) {
	t.Parallel()
	e := rpSetup(t, providertest.Config{}, nil, nil)
	res, err := e.login(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	in, err := e.c.Introspect(t.Context(), res.Token.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if !in.Active || in.Subject != res.IDToken.Subject || in.ClientID != clientID || in.Issuer != e.op.Issuer() || in.Expiry.IsZero() || in.IssuedAt.IsZero() ||
		len(in.Audience) == 0 || in.TokenType != "Bearer" || !strings.Contains(in.Scope, "openid") {
		t.Errorf("Introspect(live access token) = %+v", in)
	}
	// A second call mints a second assertion: the mock refuses a replayed jti.
	if err := e.c.Revoke(t.Context(), res.Token.AccessToken, "access_token"); err != nil {
		t.Fatalf("Revoke(access token) = %v", err)
	}
	in, err = e.c.Introspect(t.Context(), res.Token.AccessToken)
	if err != nil || in.Active || in.Subject != "" {
		t.Errorf("Introspect(revoked token) = %+v, %v; want inactive, no error", in, err)
	}
	if err := e.c.Revoke(t.Context(), "unknown-token", ""); err != nil {
		t.Errorf("Revoke(unknown token) = %v, want nil (RFC 7009 §2.2)", err)
	}
	if err := e.c.Revoke(t.Context(), res.Token.RefreshToken, "refresh_token"); err != nil {
		t.Fatal(err)
	}
	_, err = e.c.RefreshTokenSource(res.Token, res.IDToken).Refresh(t.Context())
	if !errors.Is(err, exchange.ErrInvalidGrant) {
		t.Errorf("refresh after revocation error = %v, want ErrInvalidGrant", err)
	}
	for _, n := range []providertest.Endpoint{providertest.EndpointRevocation, providertest.EndpointIntrospection} {
		if got := e.op.Count(n); got < 2 {
			t.Errorf("%s requests = %d", n, got)
		}
	}
	if _, err := e.c.Introspect(t.Context(), ""); !errors.Is(err, exchange.ErrInvalidConfig) {
		t.Errorf("Introspect(\"\") error = %v, want ErrInvalidConfig", err)
	}
}

// TestRevokeClientAuth: a client the provider does not know is refused
// with a typed error, and the assertion never appears in it.
func TestRevokeClientAuth(t *testing.T) {
	t.Parallel()
	e := rpSetup(t, providertest.Config{Audience: providertest.AudienceTokenEndpoint}, nil, nil)
	err := e.c.Revoke(t.Context(), "some-token", "")
	var te *exchange.TokenError
	if !errors.Is(err, exchange.ErrInvalidClient) || !errors.As(err, &te) || te.StatusCode != http.StatusUnauthorized {
		t.Fatalf("Revoke with a refused assertion error = %v, want a 401 ErrInvalidClient", err)
	}
	if !strings.Contains(err.Error(), "revocation endpoint") || strings.Contains(err.Error(), "eyJ") {
		t.Errorf("Revoke error = %v", err)
	}
	_, err = e.c.Introspect(t.Context(), "some-token")
	if !errors.Is(err, exchange.ErrInvalidClient) {
		t.Fatalf("Introspect with a refused assertion error = %v, want ErrInvalidClient", err)
	}
}

func TestIntrospectionResponses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		status  int
		body    string
		wantErr error
		want    func(*exchange.Introspection) bool
	}{
		{name: "inactive", status: 200, body: `{"active":false}`, want: func(in *exchange.Introspection) bool { return !in.Active }},
		{name: "active", status: 200, body: `{"active":true,"sub":"u","aud":["a","b"],"exp":1700000000,"iat":1699999000.5,"username":"jdoe"}`, want: func(in *exchange.Introspection) bool {
			return in.Active && in.Subject == "u" && len(in.Audience) == 2 && in.Expiry.Equal(time.Unix(1700000000, 0)) && in.IssuedAt.Equal(time.Unix(1699999000, 5e8)) && in.Raw["username"] == "jdoe"
		}},
		{name: "active is a string", status: 200, body: `{"active":"true"}`, wantErr: exchange.ErrMalformedResponse},
		{name: "no active", status: 200, body: `{"sub":"u"}`, wantErr: exchange.ErrMalformedResponse},
		{name: "repeated active", status: 200, body: `{"active":false,"active":true}`, wantErr: exchange.ErrMalformedResponse},
		{name: "sub a number", status: 200, body: `{"active":true,"sub":1}`, wantErr: exchange.ErrMalformedResponse},
		{name: "aud of numbers", status: 200, body: `{"active":true,"aud":[1]}`, wantErr: exchange.ErrMalformedResponse},
		{name: "exp a string", status: 200, body: `{"active":true,"exp":"1700000000"}`, wantErr: exchange.ErrMalformedResponse},
		{name: "not JSON", status: 200, body: `active`, wantErr: exchange.ErrMalformedResponse},
		{name: "too large", status: 200, body: `{"active":false,"x":"` + strings.Repeat("a", 2<<20) + `"}`, wantErr: exchange.ErrMalformedResponse},
		{name: "redirect", status: 307, wantErr: exchange.ErrRedirectForTest},
		{name: "invalid_client", status: 401, body: `{"error":"invalid_client"}`, wantErr: exchange.ErrInvalidClient},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				if err := r.ParseForm(); err != nil || r.PostForm.Get("client_assertion") == "" || r.PostForm.Get("token") != "tok" {
					t.Errorf("introspection request form = %v, %v", r.PostForm, err)
				}
				if tc.status == 307 {
					w.Header().Set("Location", "/elsewhere")
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				w.Write([]byte(tc.body))
			}))
			t.Cleanup(srv.Close)
			c := newUserInfoClient(t, srv.URL)
			in, err := c.Introspect(t.Context(), "tok")
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("Introspect(%q) error = %v, want %v", tc.name, err, tc.wantErr)
			}
			if err == nil && !tc.want(in) {
				t.Errorf("Introspect(%q) = %+v", tc.name, in)
			}
			if hits.Load() != 1 {
				t.Errorf("Introspect(%q) sent %d requests, want 1", tc.name, hits.Load())
			}
			if tc.name == "redirect" {
				if err := c.Revoke(t.Context(), "tok", ""); !errors.Is(err, exchange.ErrRedirectForTest) {
					t.Errorf("Revoke with a redirect error = %v", err)
				}
			}
		})
	}
}
