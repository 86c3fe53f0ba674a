package interop_test

import (
	"slices"
	"testing"

	"github.com/pkjwt/pkjwt/assertion"
)

// TestInteropOAuth2Login does without exchange what an application on
// golang.org/x/oauth2 would do: assertion.Minter for a fresh assertion per
// request, x/oauth2's Exchange with AuthStyleInParams and the assertion as
// parameters, provider's verifier for the ID token; then two refreshes by
// plain POST (x/oauth2's refresher cannot add parameters); then client
// credentials through x/oauth2's clientcredentials package, one assertion
// per fetch.
//
// Working on the raw responses, it pins two habits of oidc-provider's
// default configuration that a client must cope with and providertest does
// not show: a confidential client's refresh token is not rotated (the
// response repeats it) until 70% of its lifetime has passed, and the
// refreshed ID token repeats the login's nonce.
func TestInteropOAuth2Login(t *testing.T) {
	needInterop(t)
	t.Parallel()
	key, err := staticKey(clientOAuth2)
	if err != nil {
		t.Fatal(err)
	}
	r := newRP(t, strictOP, clientOAuth2, key, assertion.ProfileRFC10070)
	res, err := r.login(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	first, err := r.verifyIDToken(t, res.idToken, res.nonce, res.token.AccessToken)
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
			t.Errorf("refresh #%d: refresh token rotated or dropped; oidc-provider's default repeats a confidential client's token until 70%% of its lifetime", i+1)
		}
		if tr.IDToken == "" {
			t.Fatalf("refresh #%d: no id_token", i+1)
		}
		// The refreshed ID token carries the login's nonce.
		idt, err := r.verifyIDToken(t, tr.IDToken, res.nonce, tr.AccessToken)
		if err != nil {
			t.Fatalf("refresh #%d: id token with the login's nonce: %v", i+1, err)
		}
		if idt.Issuer != first.Issuer || idt.Subject != first.Subject || !slices.Equal(idt.Audience, first.Audience) {
			t.Errorf("refresh #%d: id token iss/sub/aud = %s/%s/%q, want %s/%s/%q", i+1,
				idt.Issuer, idt.Subject, idt.Audience, first.Issuer, first.Subject, first.Audience)
		}
	}

	ts := r.tokenSource(t.Context())
	cc1, err := ts.Token()
	if err != nil {
		t.Fatalf("client credentials: %v", err)
	}
	cc2, err := ts.Token()
	if err != nil || cc2.AccessToken != cc1.AccessToken {
		t.Fatalf("client credentials: ReuseTokenSource did not reuse the token (err %v)", err)
	}
	cc3, err := ccSource{ctx: t.Context(), r: r}.Token()
	if err != nil || cc3.AccessToken == cc1.AccessToken {
		t.Fatalf("client credentials: a second fetch failed or repeated the token (err %v)", err)
	}
}
