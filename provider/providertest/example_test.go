package providertest_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
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

// Example shows a login test: register a client with its public key, play
// the browser with Authorize, redeem the code with a client assertion, then
// replay the assertion and read why it was refused. In a test, use
// providertest.New(t, cfg) instead of Start and Close.
func Example() {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	key := testkeys.Signer(testkeys.P256A) // the client's private key
	s, err := providertest.Start(providertest.Config{
		Now:  clock.Fixed(now),
		User: providertest.User{Subject: "alice", Claims: map[string]any{"email": "alice@example.com"}},
		Clients: []providertest.Client{{
			ID:           "my-app",
			JWKS:         jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "app-key-1", Use: "sig"}}},
			RedirectURIs: []string{"https://app.example/callback"},
		}},
	})
	if err != nil {
		panic(err)
	}
	defer s.Close()

	// The client sends the user to authorize, with PKCE, state and nonce.
	verifier := strings.Repeat("v", 43)
	sum := sha256.Sum256([]byte(verifier))
	authURL := s.AuthorizationEndpoint() + "?" + url.Values{
		"response_type": {"code"}, "client_id": {"my-app"}, "scope": {"openid email"},
		"redirect_uri": {"https://app.example/callback"}, "state": {"s1"}, "nonce": {"n1"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}.Encode()
	cb, err := s.Authorize(context.Background(), authURL)
	if err != nil {
		panic(err)
	}
	fmt.Println("state:", cb.Query().Get("state"), "iss ok:", cb.Query().Get("iss") == s.Issuer())

	// The client redeems the code, authenticating with a client assertion
	// (RFC 7523 §3, aud = the issuer per RFC 10070).
	claims, _ := json.Marshal(map[string]any{
		"iss": "my-app", "sub": "my-app", "aud": s.Issuer(), "jti": "a-unique-id",
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
	})
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: "app-key-1"}},
		(&jose.SignerOptions{}).WithType("client-authentication+jwt"))
	jws, _ := signer.Sign(claims)
	assertion, _ := jws.CompactSerialize()
	form := url.Values{
		"grant_type": {"authorization_code"}, "code": {cb.Query().Get("code")},
		"redirect_uri": {"https://app.example/callback"}, "code_verifier": {verifier},
		"client_assertion_type": {providertest.ClientAssertionType}, "client_assertion": {assertion},
	}
	resp, err := s.HTTPClient().PostForm(s.TokenEndpoint(), form)
	if err != nil {
		panic(err)
	}
	var tok struct {
		IDToken   string `json:"id_token"`
		TokenType string `json:"token_type"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	fmt.Println("token:", resp.StatusCode, tok.TokenType, "id_token:", tok.IDToken != "")

	// Sending the same assertion again is a replay.
	form.Set("grant_type", "client_credentials")
	resp, err = s.HTTPClient().PostForm(s.TokenEndpoint(), form)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	r, _ := s.LastRefusal()
	fmt.Println("replay:", resp.StatusCode, r.Code, errors.Is(r.Reason, providertest.ErrReplay))
	fmt.Println("token requests:", s.Count(providertest.EndpointToken))
	// Output:
	// state: s1 iss ok: true
	// token: 200 Bearer id_token: true
	// replay: 401 invalid_client true
	// token requests: 2
}

// ExampleServer_Misbehave makes the next ID token carry alg "none", for a
// test that checks the client refuses it.
func ExampleServer_Misbehave() {
	s, err := providertest.Start(providertest.Config{})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	s.Misbehave(providertest.IDTokenAlgNone, providertest.AuthorizeMissingIssuer)
	fmt.Println(s.Misbehaving(providertest.IDTokenAlgNone))
	s.Reset()
	fmt.Println(s.Misbehaving(providertest.IDTokenAlgNone))
	resp, err := s.HTTPClient().Get(s.DiscoveryURL())
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	json.NewDecoder(resp.Body).Decode(&doc)
	fmt.Println(resp.StatusCode == http.StatusOK, doc["token_endpoint_auth_methods_supported"])
	// Output:
	// true
	// false
	// true [private_key_jwt]
}
