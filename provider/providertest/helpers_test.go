package providertest_test

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/pkjwt/pkjwt/internal/clock"
	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider/providertest"
)

// Fixed test time.
var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

const (
	clientID    = "client-1"
	clientKID   = "client-key-1"
	redirectURI = "https://app.example/callback"
)

var jtiCounter atomic.Int64

func nextJTI() string { return "jti-" + itoa(jtiCounter.Add(1)) }

// clientKey is the test client's signing key.
func clientKey() crypto.Signer { return testkeys.Signer(testkeys.RSA2048A) }

// publicJWKS is the public JWK Set of the given keys, with kids.
func publicJWKS(kids []string, keys ...crypto.Signer) jose.JSONWebKeySet {
	var set jose.JSONWebKeySet
	for i, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.Public(), KeyID: kids[i], Use: "sig"})
	}
	return set
}

// testClient is the default registered client.
func testClient() providertest.Client {
	return providertest.Client{
		ID:           clientID,
		JWKS:         publicJWKS([]string{clientKID}, clientKey()),
		RedirectURIs: []string{redirectURI},
		Algorithms:   []jwks.Algorithm{jwks.RS256, jwks.PS256},
		GrantTypes:   []string{providertest.GrantAuthorizationCode, providertest.GrantRefreshToken, providertest.GrantClientCredentials, providertest.GrantJWTBearer, providertest.GrantTokenExchange},
	}
}

// newServer starts a server at t0 (a manual clock) with the test client.
func newServer(t *testing.T, cfg providertest.Config) (*providertest.Server, *clock.Manual) {
	t.Helper()
	clk := clock.NewManual(t0)
	if cfg.Now == nil {
		cfg.Now = clk.Now
	}
	if cfg.Clients == nil {
		cfg.Clients = []providertest.Client{testClient()}
	}
	return providertest.New(t, cfg), clk
}

// claims returns valid assertion claims for the server at now.
func claims(s *providertest.Server, now time.Time) map[string]any {
	return map[string]any{
		"iss": clientID, "sub": clientID, "aud": s.Issuer(),
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "jti": nextJTI(),
	}
}

// signJWS signs claims with go-jose. extra header members are added; a
// "kid" of "" leaves kid out.
func signJWS(t testing.TB, key crypto.Signer, alg jose.SignatureAlgorithm, kid string, extra map[string]any, c map[string]any) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	opts.WithType("client-authentication+jwt")
	for k, v := range extra {
		opts.WithHeader(jose.HeaderKey(k), v)
	}
	var sk any = key
	if kid != "" {
		sk = jose.JSONWebKey{Key: key, KeyID: kid}
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: sk}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := sig.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// assertion is a valid client assertion for the test client.
func assertion(t testing.TB, s *providertest.Server, now time.Time) string {
	return signJWS(t, clientKey(), jose.RS256, clientKID, nil, claims(s, now))
}

// tokenForm is a client_credentials request with the assertion.
func tokenForm(a string) url.Values {
	return url.Values{
		"grant_type":            {providertest.GrantClientCredentials},
		"client_assertion_type": {providertest.ClientAssertionType},
		"client_assertion":      {a},
	}
}

// post sends form to the token endpoint and decodes the JSON answer.
func post(t testing.TB, s *providertest.Server, form url.Values, hdr http.Header) (int, map[string]any, http.Header) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.TokenEndpoint(), strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil && resp.StatusCode != 500 {
		t.Fatalf("token response is not JSON (status %d): %.200q", resp.StatusCode, b)
	}
	return resp.StatusCode, m, resp.Header
}

// pkce returns a verifier and its S256 challenge.
func pkce() (verifier, challenge string) {
	verifier = "verifier-" + strings.Repeat("v", 40) + itoa(jtiCounter.Add(1))
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// authURL builds an authorization request.
func authURL(s *providertest.Server, challenge, state, nonce string) string {
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {clientID},
		"redirect_uri":          {redirectURI},
		"scope":                 {"openid email"},
		"state":                 {state},
		"nonce":                 {nonce},
		"code_challenge":        {challenge},
		"code_challenge_method": {"S256"},
	}
	return s.AuthorizationEndpoint() + "?" + q.Encode()
}

// login runs authorize and the code exchange and returns the token response.
func login(t *testing.T, s *providertest.Server, now time.Time) map[string]any {
	t.Helper()
	verifier, challenge := pkce()
	cb, err := s.Authorize(t.Context(), authURL(s, challenge, "st", "nonce-1"))
	if err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	code := cb.Query().Get("code")
	if code == "" {
		t.Fatalf("Authorize returned no code: %v", cb.Query())
	}
	form := url.Values{
		"grant_type":            {providertest.GrantAuthorizationCode},
		"code":                  {code},
		"redirect_uri":          {redirectURI},
		"code_verifier":         {verifier},
		"client_assertion_type": {providertest.ClientAssertionType},
		"client_assertion":      {assertion(t, s, now)},
	}
	st, body, _ := post(t, s, form, nil)
	if st != 200 {
		t.Fatalf("code exchange: status %d, body %v", st, body)
	}
	return body
}

// fetchJWKS GETs the server's JWKS.
func fetchJWKS(t *testing.T, s *providertest.Server) jose.JSONWebKeySet {
	t.Helper()
	resp, err := s.HTTPClient().Get(s.JWKSURL())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	return set
}

// splitJWT decodes a JWT's header and claims without verifying it.
func splitJWT(t *testing.T, tok string) (map[string]any, map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	var h, c map[string]any
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if err := json.Unmarshal(hb, &h); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(cb, &c); err != nil {
		t.Fatal(err)
	}
	return h, c
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// pemOf encodes a public key as PKIX PEM.
func pemOf(t *testing.T, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// timeNow is the wall clock, for benchmarks against a server on real time.
func timeNow() time.Time { return time.Now() }

// drain reads and closes a response body so the connection is reused.
func drain(resp *http.Response) {
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}
