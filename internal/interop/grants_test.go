package interop_test

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pkjwt/pkjwt/assertion"
)

// TestInteropLogin runs the whole login at the strict provider (audience =
// issuer as a single string, typ client-authentication+jwt) with an RSA, an
// EC and an Ed25519 client key.
func TestInteropLogin(t *testing.T) {
	needInterop(t)
	t.Parallel()
	for _, id := range []string{clientLoginRS256, clientLoginES256, clientLoginEdDSA} {
		t.Run(id, func(t *testing.T) {
			t.Parallel()
			key, err := staticKey(id)
			if err != nil {
				t.Fatal(err)
			}
			r := newRP(t, strictOP, id, key, assertion.ProfileRFC10070)
			res, err := r.login(t.Context())
			if err != nil {
				t.Fatalf("login(%s): %v", id, err)
			}
			if res.token.AccessToken == "" {
				t.Errorf("login(%s): empty access token", id)
			}
			if _, err := r.verifyIDToken(t.Context(), res); err != nil {
				t.Errorf("login(%s): id token: %v", id, err)
			}
		})
	}
}

// TestInteropRefresh logs in, then redeems the refresh token twice, each time
// with a fresh assertion, and verifies the refreshed ID token (OIDC Core
// §12.2: same iss, sub and aud as the first).
//
// It also pins two habits of oidc-provider's default configuration that a
// client must cope with and providertest does not show: a confidential
// client's refresh token is not rotated (the response repeats it) until 70%
// of its lifetime has passed, and the refreshed ID token repeats the nonce of
// the original login.
func TestInteropRefresh(t *testing.T) {
	needInterop(t)
	t.Parallel()
	key, err := staticKey(clientRefresh)
	if err != nil {
		t.Fatal(err)
	}
	r := newRP(t, strictOP, clientRefresh, key, assertion.ProfileRFC10070)
	res, err := r.login(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	first, err := r.verifyIDToken(t.Context(), res)
	if err != nil {
		t.Fatal(err)
	}
	rt := res.token.RefreshToken
	if rt == "" {
		t.Fatal("login: no refresh token")
	}
	seen := map[string]bool{res.token.AccessToken: true}
	for i := range 2 {
		tr, err := r.refresh(t.Context(), rt)
		if err != nil {
			t.Fatalf("refresh #%d: %v", i+1, err)
		}
		if tr.AccessToken == "" || seen[tr.AccessToken] {
			t.Fatalf("refresh #%d: no new access token", i+1)
		}
		seen[tr.AccessToken] = true
		if tr.RefreshToken != rt {
			t.Errorf("refresh #%d: refresh token rotated; oidc-provider's default keeps a confidential client's token until 70%% of its lifetime", i+1)
		}
		if tr.IDToken == "" {
			t.Fatalf("refresh #%d: no id_token", i+1)
		}
		// The refreshed ID token carries the login's nonce.
		idt, err := r.verifyIDToken(t.Context(), &loginResult{idToken: tr.IDToken, nonce: res.nonce})
		if err != nil {
			t.Fatalf("refresh #%d: id token: %v", i+1, err)
		}
		if idt.Issuer != first.Issuer || idt.Subject != first.Subject || !slices.Equal(idt.Audience, first.Audience) {
			t.Errorf("refresh #%d: id token iss/sub/aud = %s/%s/%q, want %s/%s/%q", i+1,
				idt.Issuer, idt.Subject, idt.Audience, first.Issuer, first.Subject, first.Audience)
		}
	}
}

// TestInteropClientCredentials fetches client-credentials tokens through a
// reusing TokenSource and then concurrently, every fetch with its own
// assertion: none may be refused (the final refusal check in TestMain
// enforces that across the suite).
func TestInteropClientCredentials(t *testing.T) {
	needInterop(t)
	t.Parallel()
	key, err := staticKey(clientCredentials)
	if err != nil {
		t.Fatal(err)
	}
	r := newRP(t, strictOP, clientCredentials, key, assertion.ProfileRFC10070)

	ts := r.tokenSource(t.Context())
	first, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	again, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if first.AccessToken == "" || again.AccessToken != first.AccessToken {
		t.Error("ReuseTokenSource did not reuse the valid token")
	}

	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	tokens := make([]string, n)
	for i := range n {
		wg.Go(func() {
			tok, err := ccSource{ctx: t.Context(), r: r}.Token()
			if err != nil {
				errs[i] = err
				return
			}
			tokens[i] = tok.AccessToken
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Errorf("concurrent fetch %d: %v", i, errs[i])
			continue
		}
		if seen[tokens[i]] {
			t.Errorf("concurrent fetch %d: access token repeated", i)
		}
		seen[tokens[i]] = true
	}
}

// TestInteropReplayRefused sends one assertion twice: the provider accepts
// it once and refuses the second use as a replay. That shows the provider
// checks jti, so that the suite-wide check (no replay refusal on any other
// client) means something.
func TestInteropReplayRefused(t *testing.T) {
	needInterop(t)
	t.Parallel()
	key, err := staticKey(clientReplay)
	if err != nil {
		t.Fatal(err)
	}
	r := newRP(t, lenientOP, clientReplay, key, assertion.ProfileRFC10070)
	auth, err := r.clientAuth(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	form := map[string][]string{"grant_type": {"client_credentials"}}
	if _, err := r.postToken(t.Context(), form, auth); err != nil {
		t.Fatalf("first use: %v", err)
	}
	_, err = r.postToken(t.Context(), form, auth)
	var te *tokenError
	if !errors.As(err, &te) || te.Status != 401 || te.Code != "invalid_client" {
		t.Fatalf("second use: error = %v, want 401 invalid_client", err)
	}
	refs, err := env.refusalsFor(t.Context(), lenientOP, clientReplay)
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 1 || refs[0].Detail != replayDetail {
		t.Errorf("provider refusals for %s = %+v, want one with detail %q", clientReplay, refs, replayDetail)
	}
}

// TestInteropLegacyAudience sends ProfileLegacy assertions (aud = token
// endpoint URL, typ JWT): the lenient provider accepts them, the strict one
// refuses them for their audience.
func TestInteropLegacyAudience(t *testing.T) {
	needInterop(t)
	t.Parallel()
	key, err := staticKey(clientLegacy)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		op         string
		wantRefuse bool
	}{
		{lenientOP, false},
		{strictOP, true},
	} {
		t.Run(tc.op, func(t *testing.T) {
			t.Parallel()
			r := newRP(t, tc.op, clientLegacy, key, assertion.ProfileLegacy)
			_, err := ccSource{ctx: t.Context(), r: r}.Token()
			if !tc.wantRefuse {
				if err != nil {
					t.Fatalf("legacy assertion at %s: %v", tc.op, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("legacy assertion at %s accepted, want refused", tc.op)
			}
			refs, err := env.refusalsFor(t.Context(), tc.op, clientLegacy)
			if err != nil {
				t.Fatal(err)
			}
			if len(refs) != 1 || refs[0].Error != "invalid_client" || !strings.Contains(refs[0].Detail, "audience") {
				t.Errorf("provider refusals for %s = %+v, want one invalid_client for the audience", clientLegacy, refs)
			}
		})
	}
}
