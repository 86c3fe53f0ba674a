package providertest_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider/providertest"
)

// verifyIDToken verifies tok against the server's JWKS with go-jose and
// returns its claims.
func verifyIDToken(t *testing.T, s *providertest.Server, tok string, alg jose.SignatureAlgorithm) map[string]any {
	t.Helper()
	set := fetchJWKS(t, s)
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{alg})
	if err != nil {
		t.Fatalf("ParseSignedCompact: %v", err)
	}
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) != 1 {
		t.Fatalf("JWKS has %d keys for kid %q", len(keys), jws.Signatures[0].Header.KeyID)
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDiscovery(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"", "/tenant", "/tenant/"} {
		s, _ := newServer(t, providertest.Config{IssuerPath: path, TLS: true})
		if want := s.URL() + path; s.Issuer() != want {
			t.Errorf("Issuer() = %q, want %q", s.Issuer(), want)
		}
		resp, err := s.HTTPClient().Get(strings.TrimSuffix(s.Issuer(), "/") + "/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := map[string]any{
			"issuer":                 s.Issuer(),
			"authorization_endpoint": s.AuthorizationEndpoint(),
			"token_endpoint":         s.TokenEndpoint(),
			"jwks_uri":               s.JWKSURL(),
			"userinfo_endpoint":      s.UserInfoEndpoint(),
			"authorization_response_iss_parameter_supported": true,
		}
		for k, v := range want {
			if doc[k] != v {
				t.Errorf("path %q: discovery %s = %v, want %v", path, k, doc[k], v)
			}
		}
		lists := map[string]string{
			"response_types_supported":              `["code"]`,
			"token_endpoint_auth_methods_supported": `["private_key_jwt"]`,
			"code_challenge_methods_supported":      `["S256"]`,
			"id_token_signing_alg_values_supported": `["RS256"]`,
			"subject_types_supported":               `["public"]`,
			"grant_types_supported":                 `["authorization_code","refresh_token","client_credentials","urn:ietf:params:oauth:grant-type:jwt-bearer","urn:ietf:params:oauth:grant-type:token-exchange"]`,
		}
		for k, v := range lists {
			b, _ := json.Marshal(doc[k])
			if string(b) != v {
				t.Errorf("path %q: discovery %s = %s, want %s", path, k, b, v)
			}
		}
		if _, ok := doc["token_endpoint_auth_signing_alg_values_supported"]; !ok {
			t.Errorf("discovery lacks token_endpoint_auth_signing_alg_values_supported")
		}
		if !strings.HasPrefix(s.TokenEndpoint(), "https://") {
			t.Errorf("TokenEndpoint() = %q, want https", s.TokenEndpoint())
		}
	}
}

func TestLogin(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		alg    jwks.Algorithm
		format providertest.TokenFormat
	}{
		{jwks.RS256, providertest.TokenOpaque},
		{jwks.PS256, providertest.TokenJWT},
		{jwks.ES256, providertest.TokenOpaque},
		{jwks.EdDSA, providertest.TokenJWT},
	} {
		t.Run(string(tc.alg), func(t *testing.T) {
			t.Parallel()
			s, _ := newServer(t, providertest.Config{
				IDTokenAlgorithm: tc.alg,
				AccessTokens:     tc.format,
				User:             providertest.User{Subject: "alice", Claims: map[string]any{"email": "alice@example.com", "iss": "ignored"}},
			})
			verifier, challenge := pkce()
			cb, err := s.Authorize(t.Context(), authURL(s, challenge, "state-xyz", "nonce-abc"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(cb.String(), redirectURI+"?") {
				t.Errorf("callback %q is not at the redirect URI", cb.Redacted())
			}
			q := cb.Query()
			if q.Get("state") != "state-xyz" || q.Get("iss") != s.Issuer() || q.Get("code") == "" {
				t.Fatalf("callback state %q iss %q code empty=%v", q.Get("state"), q.Get("iss"), q.Get("code") == "")
			}
			form := url.Values{
				"grant_type": {providertest.GrantAuthorizationCode}, "code": {q.Get("code")},
				"redirect_uri": {redirectURI}, "code_verifier": {verifier},
				"client_assertion_type": {providertest.ClientAssertionType}, "client_assertion": {assertion(t, s, t0)},
			}
			st, body, hdr := post(t, s, form, nil)
			if st != 200 {
				t.Fatalf("status %d: %v", st, body)
			}
			if hdr.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", hdr.Get("Cache-Control"))
			}
			if body["token_type"] != "Bearer" || body["access_token"] == nil || body["refresh_token"] == nil {
				t.Errorf("token response %v lacks members", body)
			}
			c := verifyIDToken(t, s, body["id_token"].(string), jose.SignatureAlgorithm(tc.alg))
			want := map[string]any{"iss": s.Issuer(), "sub": "alice", "aud": clientID, "nonce": "nonce-abc", "email": "alice@example.com"}
			for k, v := range want {
				if c[k] != v {
					t.Errorf("ID token %s = %v, want %v", k, c[k], v)
				}
			}
			for _, k := range []string{"exp", "iat", "auth_time", "sid", "at_hash"} {
				if _, ok := c[k]; !ok {
					t.Errorf("ID token lacks %s", k)
				}
			}
			if _, ok := c["azp"]; ok {
				t.Errorf("ID token has azp with a single audience")
			}
			if c["iat"].(float64) != float64(t0.Unix()) {
				t.Errorf("iat = %v, want %d", c["iat"], t0.Unix())
			}
			// Userinfo.
			req, _ := http.NewRequest(http.MethodGet, s.UserInfoEndpoint(), nil)
			req.Header.Set("Authorization", "Bearer "+body["access_token"].(string))
			resp, err := s.HTTPClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var ui map[string]any
			json.NewDecoder(resp.Body).Decode(&ui)
			resp.Body.Close()
			if resp.StatusCode != 200 || ui["sub"] != "alice" || ui["email"] != "alice@example.com" {
				t.Errorf("userinfo status %d body %v", resp.StatusCode, ui)
			}
			if a, ok := s.LastAssertion(); !ok || !a.Accepted || a.Claims["iss"] != clientID || a.Header["kid"] != clientKID {
				t.Errorf("LastAssertion() = %+v, %v", a, ok)
			}
			for e, n := range map[providertest.Endpoint]int{providertest.EndpointAuthorize: 1, providertest.EndpointToken: 1, providertest.EndpointJWKS: 1, providertest.EndpointUserInfo: 1} {
				if got := s.Count(e); got != n {
					t.Errorf("Count(%s) = %d, want %d", e, got, n)
				}
			}
		})
	}
}

// userinfoStatus calls userinfo with an access token.
func userinfoStatus(t *testing.T, s *providertest.Server, at string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.UserInfoEndpoint(), nil)
	req.Header.Set("Authorization", "Bearer "+at)
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func lastReason(t *testing.T, s *providertest.Server) error {
	t.Helper()
	r, ok := s.LastRefusal()
	if !ok {
		t.Fatal("no refusal recorded")
	}
	return r.Reason
}

func TestCodeSingleUse(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, providertest.Config{})
	verifier, challenge := pkce()
	cb, err := s.Authorize(t.Context(), authURL(s, challenge, "s", "n"))
	if err != nil {
		t.Fatal(err)
	}
	form := func() url.Values {
		return url.Values{
			"grant_type": {providertest.GrantAuthorizationCode}, "code": {cb.Query().Get("code")},
			"redirect_uri": {redirectURI}, "code_verifier": {verifier},
			"client_assertion_type": {providertest.ClientAssertionType}, "client_assertion": {assertion(t, s, t0)},
		}
	}
	st, first, _ := post(t, s, form(), nil)
	if st != 200 {
		t.Fatalf("first redemption: %d %v", st, first)
	}
	at := first["access_token"].(string)
	if got := userinfoStatus(t, s, at); got != 200 {
		t.Fatalf("userinfo before reuse: %d", got)
	}
	st, body, _ := post(t, s, form(), nil)
	if st != 400 || body["error"] != "invalid_grant" {
		t.Errorf("second redemption: %d %v, want 400 invalid_grant", st, body)
	}
	if err := lastReason(t, s); !errors.Is(err, providertest.ErrCodeReused) {
		t.Errorf("reason %v, want ErrCodeReused", err)
	}
	if got := userinfoStatus(t, s, at); got != 401 {
		t.Errorf("userinfo with the first access token after reuse: %d, want 401", got)
	}
	// The refresh token the first redemption issued is revoked too.
	rf := url.Values{
		"grant_type": {providertest.GrantRefreshToken}, "refresh_token": {first["refresh_token"].(string)},
		"client_assertion_type": {providertest.ClientAssertionType}, "client_assertion": {assertion(t, s, t0)},
	}
	if st, body, _ := post(t, s, rf, nil); st != 400 || !errors.Is(lastReason(t, s), providertest.ErrInvalidRefreshToken) {
		t.Errorf("refresh after reuse: %d %v", st, body)
	}
}

func TestExtraAudiences(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, providertest.Config{ExtraAudiences: []string{"https://api.example"}})
	_, c := splitJWT(t, login(t, s, t0)["id_token"].(string))
	aud, _ := c["aud"].([]any)
	if len(aud) != 2 || aud[0] != clientID || aud[1] != "https://api.example" || c["azp"] != clientID {
		t.Errorf("aud %v azp %v", c["aud"], c["azp"])
	}
}
