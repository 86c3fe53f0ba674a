package providertest_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/pkjwt/pkjwt/internal/clock"
	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/provider/providertest"
)

// ExampleServer_PAREndpoint drives a FAPI 2.0 login: a pushed authorization
// request carrying a DPoP proof (which binds the code to the key), the
// authorization with client_id and request_uri alone, then the code
// exchange, where the server demands a DPoP nonce first. In a test, use
// providertest.New(t, cfg) instead of Start and Close.
func ExampleServer_PAREndpoint() {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	clientKey := testkeys.Signer(testkeys.RSA2048A) // signs client assertions
	dpopKey := testkeys.Signer(testkeys.P256A)      // signs DPoP proofs
	s, err := providertest.Start(providertest.Config{
		Now:                                clock.Fixed(now),
		RequirePushedAuthorizationRequests: true,
		DPoPNonceRequired:                  true,
		Clients: []providertest.Client{{
			ID:           "my-app",
			JWKS:         jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: clientKey.Public(), KeyID: "k1", Use: "sig"}}},
			RedirectURIs: []string{"https://app.example/callback"},
		}},
	})
	if err != nil {
		panic(err)
	}
	defer s.Close()

	n := 0
	sign := func(key any, opts *jose.SignerOptions, alg jose.SignatureAlgorithm, claims map[string]any) string {
		n++
		claims["jti"], claims["iat"] = fmt.Sprint("id-", n), now.Unix()
		sg, _ := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
		b, _ := json.Marshal(claims)
		jws, _ := sg.Sign(b)
		out, _ := jws.CompactSerialize()
		return out
	}
	assertion := func() string { // RFC 7523 §3, aud = the issuer (RFC 10070)
		return sign(jose.JSONWebKey{Key: clientKey, KeyID: "k1"}, (&jose.SignerOptions{}).WithType("client-authentication+jwt"), jose.RS256,
			map[string]any{"iss": "my-app", "sub": "my-app", "aud": s.Issuer(), "exp": now.Add(time.Minute).Unix()})
	}
	proof := func(htu, nonce string) string { // RFC 9449 §4.2
		c := map[string]any{"htm": "POST", "htu": htu}
		if nonce != "" {
			c["nonce"] = nonce
		}
		return sign(dpopKey, (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"), jose.ES256, c)
	}
	postForm := func(u string, form url.Values, dpop string) (*http.Response, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("DPoP", dpop)
		resp, err := s.HTTPClient().Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		return resp, body
	}

	// 1. Push the authorization request (with PKCE), authenticated, with a
	// proof for the PAR endpoint. The server wants its nonce first.
	verifier := strings.Repeat("v", 43)
	sum := sha256.Sum256([]byte(verifier))
	par := url.Values{
		"response_type": {"code"}, "client_id": {"my-app"}, "scope": {"openid"},
		"redirect_uri": {"https://app.example/callback"}, "state": {"s1"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
		"client_assertion_type": {providertest.ClientAssertionType},
	}
	par.Set("client_assertion", assertion())
	resp, body := postForm(s.PAREndpoint(), par, proof(s.PAREndpoint(), ""))
	nonce := resp.Header.Get("DPoP-Nonce")
	fmt.Println("PAR:", resp.StatusCode, body["error"], nonce != "")
	par.Set("client_assertion", assertion()) // a retry mints a new assertion and a new proof
	resp, body = postForm(s.PAREndpoint(), par, proof(s.PAREndpoint(), nonce))
	fmt.Println("PAR retry:", resp.StatusCode, body["expires_in"])

	// 2. Authorize with client_id and request_uri alone.
	cb, err := s.Authorize(context.Background(), s.AuthorizationEndpoint()+"?"+url.Values{
		"client_id": {"my-app"}, "request_uri": {body["request_uri"].(string)},
	}.Encode())
	if err != nil {
		panic(err)
	}

	// 3. Redeem the code with a proof by the same key.
	resp, body = postForm(s.TokenEndpoint(), url.Values{
		"grant_type": {"authorization_code"}, "code": {cb.Query().Get("code")},
		"redirect_uri": {"https://app.example/callback"}, "code_verifier": {verifier},
		"client_assertion_type": {providertest.ClientAssertionType}, "client_assertion": {assertion()},
	}, proof(s.TokenEndpoint(), s.DPoPNonce()))
	fmt.Println("token:", resp.StatusCode, body["token_type"])
	fmt.Println("PAR requests:", s.Count(providertest.EndpointPAR))
	// Output:
	// PAR: 400 use_dpop_nonce true
	// PAR retry: 201 60
	// token: 200 DPoP
	// PAR requests: 2
}
