package interop_test

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"golang.org/x/oauth2"
)

// TestInteropDiscoveryDocument checks that both providers advertise what the
// rest of the suite relies on.
func TestInteropDiscoveryDocument(t *testing.T) {
	e := needInterop(t)
	t.Parallel()
	for _, name := range []string{strictOP, lenientOP} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, e.issuer(name)+"/.well-known/openid-configuration", nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := (&http.Client{Timeout: httpTimeout}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var doc struct {
				Issuer                string   `json:"issuer"`
				AuthMethods           []string `json:"token_endpoint_auth_methods_supported"`
				AuthAlgs              []string `json:"token_endpoint_auth_signing_alg_values_supported"`
				GrantTypes            []string `json:"grant_types_supported"`
				CodeChallengeMethods  []string `json:"code_challenge_methods_supported"`
				ISSParameterSupported bool     `json:"authorization_response_iss_parameter_supported"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
				t.Fatal(err)
			}
			if doc.Issuer != e.issuer(name) {
				t.Errorf("issuer = %q, want %q", doc.Issuer, e.issuer(name))
			}
			if !slices.Equal(doc.AuthMethods, []string{"private_key_jwt"}) {
				t.Errorf("token_endpoint_auth_methods_supported = %q, want only private_key_jwt", doc.AuthMethods)
			}
			for _, alg := range []string{"RS256", "PS256", "ES256", "EdDSA"} {
				if !slices.Contains(doc.AuthAlgs, alg) {
					t.Errorf("token_endpoint_auth_signing_alg_values_supported = %q, want it to contain %s", doc.AuthAlgs, alg)
				}
			}
			for _, gt := range []string{"authorization_code", "refresh_token", "client_credentials"} {
				if !slices.Contains(doc.GrantTypes, gt) {
					t.Errorf("grant_types_supported = %q, want it to contain %s", doc.GrantTypes, gt)
				}
			}
			if !slices.Equal(doc.CodeChallengeMethods, []string{"S256"}) {
				t.Errorf("code_challenge_methods_supported = %q, want [S256]", doc.CodeChallengeMethods)
			}
			if !doc.ISSParameterSupported {
				t.Error("authorization_response_iss_parameter_supported = false, want true")
			}
		})
	}
}

// TestInteropAuthorizeCallback runs the browser leg of a login alone: the
// interaction endpoints approve without a person, and the callback carries
// code, state and the provider's iss (RFC 9207).
func TestInteropAuthorizeCallback(t *testing.T) {
	e := needInterop(t)
	t.Parallel()
	iss := e.issuer(strictOP)
	cfg := oauth2.Config{
		ClientID:    clientLoginRS256,
		RedirectURL: redirectURI,
		Scopes:      []string{"openid"},
		Endpoint:    oauth2.Endpoint{AuthURL: iss + "/auth", TokenURL: iss + "/token", AuthStyle: oauth2.AuthStyleInParams},
	}
	state := rand.Text()
	verifier := oauth2.GenerateVerifier()
	cb, err := authorize(t.Context(), cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", rand.Text())))
	if err != nil {
		t.Fatal(err)
	}
	q := cb.Query()
	if got := q.Get("iss"); got != iss {
		t.Errorf("callback iss = %q, want %q", got, iss)
	}
	if got := q.Get("state"); got != state {
		t.Errorf("callback state = %q, want the one sent", got)
	}
	if q.Get("code") == "" || q.Get("error") != "" {
		t.Errorf("callback without code: error=%q description=%q", q.Get("error"), q.Get("error_description"))
	}
}

// TestInteropAuthorizeWithoutPKCERefused checks the provider demands PKCE
// from a confidential client too (server.mjs's pkce.required).
func TestInteropAuthorizeWithoutPKCERefused(t *testing.T) {
	e := needInterop(t)
	t.Parallel()
	iss := e.issuer(strictOP)
	cfg := oauth2.Config{
		ClientID:    clientLoginRS256,
		RedirectURL: redirectURI,
		Scopes:      []string{"openid"},
		Endpoint:    oauth2.Endpoint{AuthURL: iss + "/auth", TokenURL: iss + "/token", AuthStyle: oauth2.AuthStyleInParams},
	}
	cb, err := authorize(t.Context(), cfg.AuthCodeURL(rand.Text()))
	if err != nil {
		t.Fatal(err)
	}
	if got := cb.Query().Get("error"); got != "invalid_request" {
		t.Errorf("callback error = %q, want invalid_request (PKCE required)", got)
	}
}
