package providertest_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider/providertest"
)

// DPoP proof keys of the test client.
func dpopKeyA() crypto.Signer { return testkeys.Signer(testkeys.P256A) }
func dpopKeyB() crypto.Signer { return testkeys.Signer(testkeys.P256B) }

// publicJWKMap is the public JWK of key as a JSON object.
func publicJWKMap(t testing.TB, pub any) map[string]any {
	t.Helper()
	b, err := jose.JSONWebKey{Key: pub}.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	return m
}

// thumbprint is the RFC 7638 SHA-256 thumbprint of key, computed by go-jose.
func thumbprint(t testing.TB, key crypto.Signer) string {
	t.Helper()
	jwk := jose.JSONWebKey{Key: key.Public()}
	b, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// signRaw signs the given header and payload JSON as a compact JWS with alg,
// by hand, so that a test controls every byte. key is a crypto.Signer, or
// []byte for HS256; alg "none" leaves the signature empty.
func signRaw(t testing.TB, alg string, key any, header, payload []byte) string {
	t.Helper()
	enc := base64.RawURLEncoding.EncodeToString
	input := enc(header) + "." + enc(payload)
	sum := sha256.Sum256([]byte(input))
	var sig []byte
	var err error
	switch alg {
	case "none":
	case "HS256":
		m := hmac.New(sha256.New, key.([]byte))
		m.Write([]byte(input))
		sig = m.Sum(nil)
	case "ES256":
		r, s, e := ecdsa.Sign(rand.Reader, key.(*ecdsa.PrivateKey), sum[:])
		if e != nil {
			t.Fatal(e)
		}
		sig = make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
	case "EdDSA":
		sig = ed25519.Sign(key.(ed25519.PrivateKey), []byte(input))
	case "PS256":
		sig, err = rsa.SignPSS(rand.Reader, key.(*rsa.PrivateKey), crypto.SHA256, sum[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	case "RS256":
		sig, err = rsa.SignPKCS1v15(rand.Reader, key.(*rsa.PrivateKey), crypto.SHA256, sum[:])
	default:
		t.Fatalf("signRaw: alg %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + enc(sig)
}

// proofSpec describes a DPoP proof; mod changes the header and claims
// before signing.
type proofSpec struct {
	alg    string
	key    crypto.Signer // signs, and its public key is the jwk
	htm    string
	htu    string
	iat    time.Time
	nonce  string
	token  string // sets ath
	header func(h map[string]any)
	claims func(c map[string]any)
}

// proof builds a DPoP proof; the zero spec fields mean ES256 with key A,
// POST at the token endpoint of s, now t0.
func proof(t testing.TB, s *providertest.Server, p proofSpec) string {
	t.Helper()
	if p.alg == "" {
		p.alg = "ES256"
	}
	if p.key == nil {
		p.key = dpopKeyA()
	}
	if p.htm == "" {
		p.htm = http.MethodPost
	}
	if p.htu == "" {
		p.htu = s.TokenEndpoint()
	}
	if p.iat.IsZero() {
		p.iat = t0
	}
	h := map[string]any{"typ": "dpop+jwt", "alg": p.alg, "jwk": publicJWKMap(t, p.key.Public())}
	c := map[string]any{"jti": nextJTI(), "htm": p.htm, "htu": p.htu, "iat": p.iat.Unix()}
	if p.nonce != "" {
		c["nonce"] = p.nonce
	}
	if p.token != "" {
		sum := sha256.Sum256([]byte(p.token))
		c["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	if p.header != nil {
		p.header(h)
	}
	if p.claims != nil {
		p.claims(c)
	}
	hb, _ := json.Marshal(h)
	cb, _ := json.Marshal(c)
	return signRaw(t, p.alg, p.key, hb, cb)
}

// dpopHeader is an http.Header with the given DPoP values.
func dpopHeader(proofs ...string) http.Header {
	return http.Header{"Dpop": proofs}
}

// wantRefusal checks the last refusal's reason.
func wantRefusal(t *testing.T, s *providertest.Server, call string, want error) {
	t.Helper()
	r, ok := s.LastRefusal()
	if !ok || !errors.Is(r.Reason, want) {
		t.Errorf("%s: last refusal %v (recorded %v), want %v", call, r.Reason, ok, want)
	}
}

func TestDPoPProofChecks(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, providertest.Config{})
	keyA := dpopKeyA()
	edKey := testkeys.Signer(testkeys.Ed25519A)
	rsaKey := testkeys.Signer(testkeys.RSA2048B)
	ok := func() string { return proof(t, s, proofSpec{}) }
	mod := func(h func(map[string]any), c func(map[string]any)) func() []string {
		return func() []string { return []string{proof(t, s, proofSpec{header: h, claims: c})} }
	}
	tests := []struct {
		name   string
		proofs func() []string
		want   error // nil: accepted
	}{
		{"valid ES256", func() []string { return []string{ok()} }, nil},
		{"valid EdDSA", func() []string { return []string{proof(t, s, proofSpec{alg: "EdDSA", key: edKey})} }, nil},
		{"valid PS256", func() []string { return []string{proof(t, s, proofSpec{alg: "PS256", key: rsaKey})} }, nil},
		{"htu with query and fragment", mod(nil, func(c map[string]any) { c["htu"] = s.TokenEndpoint() + "?a=b#c" }), nil},
		{"htu scheme in upper case", mod(nil, func(c map[string]any) { c["htu"] = strings.Replace(s.TokenEndpoint(), "http://", "HTTP://", 1) }), nil},
		{"typ application/dpop+jwt", mod(func(h map[string]any) { h["typ"] = "application/dpop+jwt" }, nil), nil},
		{"two DPoP headers", func() []string { return []string{ok(), ok()} }, providertest.ErrDPoPMultipleProofs},
		{"not a JWS", func() []string { return []string{"not.a-jws"} }, providertest.ErrDPoPMalformed},
		{"four parts", func() []string { return []string{ok() + ".x"} }, providertest.ErrDPoPMalformed},
		{"repeated header member", func() []string {
			h := `{"typ":"dpop+jwt","typ":"dpop+jwt","alg":"ES256","jwk":` + mustJSON(publicJWKMap(t, keyA.Public())) + `}`
			c := `{"jti":"` + nextJTI() + `","htm":"POST","htu":"` + s.TokenEndpoint() + `","iat":` + itoa(t0.Unix()) + `}`
			return []string{signRaw(t, "ES256", keyA, []byte(h), []byte(c))}
		}, providertest.ErrDPoPMalformed},
		{"repeated jwk member", func() []string {
			j := mustJSON(publicJWKMap(t, keyA.Public()))
			j = `{"kty":"EC",` + j[1:]
			h := `{"typ":"dpop+jwt","alg":"ES256","jwk":` + j + `}`
			c := `{"jti":"` + nextJTI() + `","htm":"POST","htu":"` + s.TokenEndpoint() + `","iat":` + itoa(t0.Unix()) + `}`
			return []string{signRaw(t, "ES256", keyA, []byte(h), []byte(c))}
		}, providertest.ErrDPoPKey},
		{"crit", mod(func(h map[string]any) { h["crit"] = []string{"exp"} }, nil), providertest.ErrDPoPMalformed},
		{"typ JWT", mod(func(h map[string]any) { h["typ"] = "JWT" }, nil), providertest.ErrDPoPType},
		{"typ missing", mod(func(h map[string]any) { delete(h, "typ") }, nil), providertest.ErrDPoPType},
		{"alg none", func() []string {
			return []string{proof(t, s, proofSpec{alg: "none", header: func(h map[string]any) { h["alg"] = "none" }})}
		}, providertest.ErrDPoPAlgorithm},
		{"alg HS256", func() []string {
			h, _ := json.Marshal(map[string]any{"typ": "dpop+jwt", "alg": "HS256", "jwk": map[string]any{"kty": "oct", "k": "c2VjcmV0"}})
			c, _ := json.Marshal(map[string]any{"jti": nextJTI(), "htm": "POST", "htu": s.TokenEndpoint(), "iat": t0.Unix()})
			return []string{signRaw(t, "HS256", []byte("secret"), h, c)}
		}, providertest.ErrDPoPAlgorithm},
		{"alg RS256 not allowed", func() []string { return []string{proof(t, s, proofSpec{alg: "RS256", key: rsaKey})} }, providertest.ErrDPoPAlgorithm},
		{"alg missing", mod(func(h map[string]any) { delete(h, "alg") }, nil), providertest.ErrDPoPAlgorithm},
		{"jwk missing", mod(func(h map[string]any) { delete(h, "jwk") }, nil), providertest.ErrDPoPKey},
		{"jwk private", mod(func(h map[string]any) {
			b, _ := jose.JSONWebKey{Key: keyA}.MarshalJSON()
			var m map[string]any
			json.Unmarshal(b, &m)
			h["jwk"] = m
		}, nil), providertest.ErrDPoPKey},
		{"jwk of the wrong type for alg", mod(func(h map[string]any) { h["jwk"] = publicJWKMap(t, edKey.Public()) }, nil), providertest.ErrDPoPKey},
		{"jwk not an object", mod(func(h map[string]any) { h["jwk"] = "key" }, nil), providertest.ErrDPoPKey},
		{"signed by another key", mod(func(h map[string]any) { h["jwk"] = publicJWKMap(t, dpopKeyB().Public()) }, nil), providertest.ErrDPoPSignature},
		{"jti missing", mod(nil, func(c map[string]any) { delete(c, "jti") }), providertest.ErrDPoPMissingJTI},
		{"jti not a string", mod(nil, func(c map[string]any) { c["jti"] = 7 }), providertest.ErrDPoPMissingJTI},
		{"htm GET", mod(nil, func(c map[string]any) { c["htm"] = "GET" }), providertest.ErrDPoPMethod},
		{"htm lower case", mod(nil, func(c map[string]any) { c["htm"] = "post" }), providertest.ErrDPoPMethod},
		{"htu of userinfo", mod(nil, func(c map[string]any) { c["htu"] = s.UserInfoEndpoint() }), providertest.ErrDPoPURI},
		{"htu another host", mod(nil, func(c map[string]any) { c["htu"] = "https://op.example/token" }), providertest.ErrDPoPURI},
		{"htu missing", mod(nil, func(c map[string]any) { delete(c, "htu") }), providertest.ErrDPoPURI},
		{"iat too old", mod(nil, func(c map[string]any) { c["iat"] = t0.Add(-61 * time.Second).Unix() }), providertest.ErrDPoPIssuedAt},
		{"iat in the future", mod(nil, func(c map[string]any) { c["iat"] = t0.Add(61 * time.Second).Unix() }), providertest.ErrDPoPIssuedAt},
		{"iat missing", mod(nil, func(c map[string]any) { delete(c, "iat") }), providertest.ErrDPoPIssuedAt},
		{"iat a string", mod(nil, func(c map[string]any) { c["iat"] = itoa(t0.Unix()) }), providertest.ErrDPoPIssuedAt},
	}
	for _, tc := range tests {
		st, body, _ := post(t, s, tokenForm(assertion(t, s, t0)), dpopHeader(tc.proofs()...))
		if tc.want == nil {
			if st != 200 || body["token_type"] != "DPoP" {
				r, _ := s.LastRefusal()
				t.Errorf("%s: status %d token_type %v (refusal %v), want 200 DPoP", tc.name, st, body["token_type"], r.Reason)
			}
			continue
		}
		if st != 400 || body["error"] != "invalid_dpop_proof" {
			t.Errorf("%s: status %d error %v, want 400 invalid_dpop_proof", tc.name, st, body["error"])
		}
		wantRefusal(t, s, tc.name, tc.want)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestDPoPReplay(t *testing.T) {
	t.Parallel()
	s, clk := newServer(t, providertest.Config{})
	p := proof(t, s, proofSpec{})
	if st, body, _ := post(t, s, tokenForm(assertion(t, s, t0)), dpopHeader(p)); st != 200 {
		t.Fatalf("first use: status %d %v", st, body)
	}
	if st, _, _ := post(t, s, tokenForm(assertion(t, s, t0)), dpopHeader(p)); st != 400 {
		t.Errorf("replayed proof: status %d, want 400", st)
	}
	wantRefusal(t, s, "replayed proof", providertest.ErrDPoPReplay)
	// Past the window, the proof is refused for its iat, not accepted.
	clk.Advance(2 * time.Minute)
	now := clk.Now()
	if st, _, _ := post(t, s, tokenForm(assertion(t, s, now)), dpopHeader(p)); st != 400 {
		t.Errorf("old proof: status %d, want 400", st)
	}
	wantRefusal(t, s, "old proof", providertest.ErrDPoPIssuedAt)
}

func TestDPoPAccessTokens(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, providertest.Config{AccessTokens: providertest.TokenJWT})
	st, body, _ := post(t, s, tokenForm(assertion(t, s, t0)), dpopHeader(proof(t, s, proofSpec{})))
	if st != 200 || body["token_type"] != "DPoP" {
		t.Fatalf("token request: status %d token_type %v", st, body["token_type"])
	}
	_, c := splitJWT(t, body["access_token"].(string))
	cnf, _ := c["cnf"].(map[string]any)
	if got, want := cnf["jkt"], thumbprint(t, dpopKeyA()); got != want {
		t.Errorf("cnf.jkt = %v, want %s", got, want)
	}
	// Without a proof, a Bearer token without cnf.
	st, body, _ = post(t, s, tokenForm(assertion(t, s, t0)), nil)
	if st != 200 || body["token_type"] != "Bearer" {
		t.Fatalf("token request without proof: status %d token_type %v", st, body["token_type"])
	}
	if _, c := splitJWT(t, body["access_token"].(string)); c["cnf"] != nil {
		t.Errorf("unbound access token has cnf %v", c["cnf"])
	}
}

// codeForm is the authorization_code request for code.
func codeForm(t *testing.T, s *providertest.Server, code, verifier string) url.Values {
	return url.Values{
		"grant_type":            {providertest.GrantAuthorizationCode},
		"code":                  {code},
		"redirect_uri":          {redirectURI},
		"code_verifier":         {verifier},
		"client_assertion_type": {providertest.ClientAssertionType},
		"client_assertion":      {assertion(t, s, t0)},
	}
}

// authorizeCode runs the authorization step for the URL and returns the code.
func authorizeCode(t *testing.T, s *providertest.Server, u string) string {
	t.Helper()
	cb, err := s.Authorize(t.Context(), u)
	if err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	code := cb.Query().Get("code")
	if code == "" {
		t.Fatalf("Authorize returned no code: %v", cb.Query())
	}
	return code
}

func TestDPoPCodeBinding(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, providertest.Config{})
	// Bound by dpop_jkt on a plain authorization request (RFC 9449 §10).
	viaJKT := func() (string, string) {
		verifier, challenge := pkce()
		return authorizeCode(t, s, authURL(s, challenge, "st", "n")+"&dpop_jkt="+thumbprint(t, dpopKeyA())), verifier
	}
	// Bound by a DPoP proof at the PAR endpoint (RFC 9449 §10.1).
	viaPAR := func() (string, string) {
		verifier, challenge := pkce()
		p := proof(t, s, proofSpec{htu: s.PAREndpoint()})
		st, body, _ := push(t, s, parForm(t, s, challenge), dpopHeader(p))
		if st != 201 {
			t.Fatalf("PAR: status %d %v", st, body)
		}
		return authorizeCode(t, s, parAuthURL(s, body["request_uri"].(string))), verifier
	}
	for name, bind := range map[string]func() (string, string){"dpop_jkt": viaJKT, "PAR proof": viaPAR} {
		code, verifier := bind()
		if st, _, _ := post(t, s, codeForm(t, s, code, verifier), nil); st != 400 {
			t.Errorf("%s: redeemed without a proof: status %d, want 400", name, st)
		}
		wantRefusal(t, s, name+" without a proof", providertest.ErrDPoPProofMissing)
		if st, _, _ := post(t, s, codeForm(t, s, code, verifier), dpopHeader(proof(t, s, proofSpec{key: dpopKeyB()}))); st != 400 {
			t.Errorf("%s: redeemed with another key: status %d, want 400", name, st)
		}
		wantRefusal(t, s, name+" with another key", providertest.ErrDPoPKeyMismatch)
		st, body, _ := post(t, s, codeForm(t, s, code, verifier), dpopHeader(proof(t, s, proofSpec{})))
		if st != 200 || body["token_type"] != "DPoP" {
			t.Errorf("%s: redeemed with the bound key: status %d %v", name, st, body)
		}
	}
}

// dpopLogin logs in with DPoP key A and returns the token response.
func dpopLogin(t *testing.T, s *providertest.Server) map[string]any {
	t.Helper()
	verifier, challenge := pkce()
	code := authorizeCode(t, s, authURL(s, challenge, "st", "n"))
	st, body, _ := post(t, s, codeForm(t, s, code, verifier), dpopHeader(proof(t, s, proofSpec{})))
	if st != 200 {
		t.Fatalf("DPoP login: status %d %v", st, body)
	}
	return body
}

func TestDPoPRefreshBinding(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, providertest.Config{})
	rt := dpopLogin(t, s)["refresh_token"].(string)
	form := func() url.Values {
		return withAuth(t, s, url.Values{"grant_type": {providertest.GrantRefreshToken}, "refresh_token": {rt}})
	}
	if st, _, _ := post(t, s, form(), nil); st != 400 {
		t.Errorf("refresh without a proof: status %d, want 400", st)
	}
	wantRefusal(t, s, "refresh without a proof", providertest.ErrDPoPProofMissing)
	if st, _, _ := post(t, s, form(), dpopHeader(proof(t, s, proofSpec{key: dpopKeyB()}))); st != 400 {
		t.Errorf("refresh with another key: status %d, want 400", st)
	}
	wantRefusal(t, s, "refresh with another key", providertest.ErrDPoPKeyMismatch)
	st, body, _ := post(t, s, form(), dpopHeader(proof(t, s, proofSpec{})))
	if st != 200 || body["token_type"] != "DPoP" {
		t.Fatalf("refresh with the bound key: status %d %v", st, body)
	}
	// The new refresh token is bound too.
	rt = body["refresh_token"].(string)
	if st, _, _ := post(t, s, form(), nil); st != 400 {
		t.Errorf("rotated refresh token without a proof: status %d, want 400", st)
	}
}

// userinfo sends the access token with scheme and the DPoP proofs.
func dpopUserinfo(t *testing.T, s *providertest.Server, method, scheme, tok string, proofs ...string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), method, s.UserInfoEndpoint(), nil)
	req.Header.Set("Authorization", scheme+" "+tok)
	for _, p := range proofs {
		req.Header.Add("DPoP", p)
	}
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	json.Unmarshal(b, &m)
	return resp, m
}

func TestDPoPUserInfo(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, providertest.Config{})
	at := dpopLogin(t, s)["access_token"].(string)
	ui := func(o proofSpec) proofSpec {
		o.htm, o.htu = http.MethodGet, s.UserInfoEndpoint()
		return o
	}
	resp, claims := dpopUserinfo(t, s, http.MethodGet, "DPoP", at, proof(t, s, ui(proofSpec{token: at})))
	if resp.StatusCode != 200 || claims["sub"] == nil {
		t.Fatalf("DPoP userinfo: status %d %v", resp.StatusCode, claims)
	}
	tests := []struct {
		name   string
		scheme string
		proofs []string
		want   error
	}{
		{"bound token as Bearer", "Bearer", nil, providertest.ErrDPoPProofMissing},
		{"bound token as Bearer with a proof", "Bearer", []string{proof(t, s, ui(proofSpec{token: at}))}, providertest.ErrDPoPProofMissing},
		{"DPoP scheme without a proof", "DPoP", nil, providertest.ErrDPoPProofMissing},
		{"ath missing", "DPoP", []string{proof(t, s, ui(proofSpec{}))}, providertest.ErrDPoPAccessTokenHash},
		{"ath of another token", "DPoP", []string{proof(t, s, ui(proofSpec{token: at + "x"}))}, providertest.ErrDPoPAccessTokenHash},
		{"htm POST on a GET", "DPoP", []string{proof(t, s, proofSpec{htu: s.UserInfoEndpoint(), token: at})}, providertest.ErrDPoPMethod},
		{"htu of the token endpoint", "DPoP", []string{proof(t, s, proofSpec{htm: "GET", token: at})}, providertest.ErrDPoPURI},
		{"another key", "DPoP", []string{proof(t, s, ui(proofSpec{key: dpopKeyB(), token: at}))}, providertest.ErrDPoPKeyMismatch},
	}
	for _, tc := range tests {
		resp, _ := dpopUserinfo(t, s, http.MethodGet, tc.scheme, at, tc.proofs...)
		if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "DPoP ") {
			t.Errorf("%s: status %d WWW-Authenticate %q, want 401 DPoP", tc.name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
		wantRefusal(t, s, tc.name, tc.want)
	}
	if resp, _ := dpopUserinfo(t, s, http.MethodGet, "Bearer", at); !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("bound token as Bearer: WWW-Authenticate %q, want error=\"invalid_token\"", resp.Header.Get("WWW-Authenticate"))
	}
	// POST works with htm POST.
	if resp, _ := dpopUserinfo(t, s, http.MethodPost, "DPoP", at, proof(t, s, proofSpec{htu: s.UserInfoEndpoint(), token: at})); resp.StatusCode != 200 {
		t.Errorf("DPoP userinfo by POST: status %d", resp.StatusCode)
	}
	// An unbound token keeps working as Bearer and is refused with DPoP.
	plain := login(t, s, t0)["access_token"].(string)
	if resp, _ := dpopUserinfo(t, s, http.MethodGet, "Bearer", plain); resp.StatusCode != 200 {
		t.Errorf("unbound token as Bearer: status %d", resp.StatusCode)
	}
	if resp, _ := dpopUserinfo(t, s, http.MethodGet, "DPoP", plain, proof(t, s, ui(proofSpec{token: plain}))); resp.StatusCode != 401 {
		t.Errorf("unbound token with DPoP: status %d, want 401", resp.StatusCode)
	}
	wantRefusal(t, s, "unbound token with DPoP", providertest.ErrDPoPKeyMismatch)
}

func TestDPoPNonce(t *testing.T) {
	t.Parallel()
	s, clk := newServer(t, providertest.Config{DPoPNonceRequired: true, DPoPNonceLifetime: time.Minute})
	st, body, h := post(t, s, tokenForm(assertion(t, s, t0)), dpopHeader(proof(t, s, proofSpec{})))
	nonce := h.Get("DPoP-Nonce")
	if st != 400 || body["error"] != "use_dpop_nonce" || nonce == "" {
		t.Fatalf("proof without nonce: status %d error %v DPoP-Nonce %q, want 400 use_dpop_nonce with a nonce", st, body["error"], nonce)
	}
	wantRefusal(t, s, "proof without nonce", providertest.ErrDPoPNonce)
	if st, body, _ := post(t, s, tokenForm(assertion(t, s, t0)), dpopHeader(proof(t, s, proofSpec{nonce: "wrong"}))); st != 400 || body["error"] != "use_dpop_nonce" {
		t.Errorf("wrong nonce: status %d error %v", st, body["error"])
	}
	st, body, h = post(t, s, tokenForm(assertion(t, s, t0)), dpopHeader(proof(t, s, proofSpec{nonce: nonce})))
	if st != 200 || body["token_type"] != "DPoP" || h.Get("DPoP-Nonce") == "" {
		t.Fatalf("proof with the nonce: status %d %v DPoP-Nonce %q", st, body, h.Get("DPoP-Nonce"))
	}
	if got := s.DPoPNonce(); got != nonce {
		t.Errorf("DPoPNonce() = %q, want the current %q", got, nonce)
	}
	// The nonce expires.
	clk.Advance(time.Minute)
	now := clk.Now()
	st, _, h = post(t, s, tokenForm(assertion(t, s, now)), dpopHeader(proof(t, s, proofSpec{nonce: nonce, iat: now})))
	if st != 400 || h.Get("DPoP-Nonce") == "" || h.Get("DPoP-Nonce") == nonce {
		t.Errorf("expired nonce: status %d DPoP-Nonce %q, want 400 with a new nonce", st, h.Get("DPoP-Nonce"))
	}
	wantRefusal(t, s, "expired nonce", providertest.ErrDPoPNonce)
	if st, _, _ := post(t, s, tokenForm(assertion(t, s, now)), dpopHeader(proof(t, s, proofSpec{nonce: h.Get("DPoP-Nonce"), iat: now}))); st != 200 {
		t.Errorf("new nonce: status %d, want 200", st)
	}
}

func TestDPoPMisbehaviors(t *testing.T) {
	t.Parallel()
	t.Run("BearerAfterDPoP", func(t *testing.T) {
		t.Parallel()
		s, _ := newServer(t, providertest.Config{})
		s.Misbehave(providertest.BearerAfterDPoP)
		body := dpopLogin(t, s)
		if body["token_type"] != "Bearer" {
			t.Errorf("token_type = %v, want Bearer", body["token_type"])
		}
		// The token is bound all the same.
		if resp, _ := dpopUserinfo(t, s, http.MethodGet, "Bearer", body["access_token"].(string)); resp.StatusCode != 401 {
			t.Errorf("bound token as Bearer: status %d, want 401", resp.StatusCode)
		}
	})
	t.Run("DPoPNonceEveryRequest", func(t *testing.T) {
		t.Parallel()
		s, _ := newServer(t, providertest.Config{})
		s.Misbehave(providertest.DPoPNonceEveryRequest)
		_, body, h := post(t, s, tokenForm(assertion(t, s, t0)), dpopHeader(proof(t, s, proofSpec{})))
		n1 := h.Get("DPoP-Nonce")
		if body["error"] != "use_dpop_nonce" || n1 == "" {
			t.Fatalf("first request: error %v nonce %q", body["error"], n1)
		}
		st, body, h := post(t, s, tokenForm(assertion(t, s, t0)), dpopHeader(proof(t, s, proofSpec{nonce: n1})))
		if st != 400 || body["error"] != "use_dpop_nonce" || h.Get("DPoP-Nonce") == n1 || h.Get("DPoP-Nonce") == "" {
			t.Errorf("retry with the nonce: status %d error %v nonce %q, want another use_dpop_nonce", st, body["error"], h.Get("DPoP-Nonce"))
		}
		wantRefusal(t, s, "retry", providertest.ErrDPoPNonce)
		wantRefusal(t, s, "retry", providertest.ErrMisbehaving)
		// Requests without a proof are not affected.
		if st, _, _ := post(t, s, tokenForm(assertion(t, s, t0)), nil); st != 200 {
			t.Errorf("request without a proof: status %d", st)
		}
	})
	t.Run("DPoPNonceHuge", func(t *testing.T) {
		t.Parallel()
		s, _ := newServer(t, providertest.Config{DPoPNonceRequired: true})
		s.Misbehave(providertest.DPoPNonceHuge)
		_, body, h := post(t, s, tokenForm(assertion(t, s, t0)), dpopHeader(proof(t, s, proofSpec{})))
		if body["error"] != "use_dpop_nonce" || len(h.Get("DPoP-Nonce")) != 1<<20 {
			t.Errorf("error %v, DPoP-Nonce of %d bytes, want use_dpop_nonce and 1 MiB", body["error"], len(h.Get("DPoP-Nonce")))
		}
	})
}

func TestDPoPConfig(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]providertest.Config{
		"HS256 proofs":         {DPoPAlgorithms: []jwks.Algorithm{"HS256"}},
		"none proofs":          {DPoPAlgorithms: []jwks.Algorithm{"none"}},
		"negative window":      {DPoPProofWindow: -time.Second},
		"negative nonce life":  {DPoPNonceLifetime: -time.Second},
		"negative PAR expires": {PARLifetime: -time.Second},
	} {
		if s, err := providertest.Start(cfg); err == nil {
			s.Close()
			t.Errorf("Start with %s = nil error", name)
		}
	}
	// A configured list is published and enforced.
	s, _ := newServer(t, providertest.Config{DPoPAlgorithms: []jwks.Algorithm{jwks.EdDSA}})
	if st, _, _ := post(t, s, tokenForm(assertion(t, s, t0)), dpopHeader(proof(t, s, proofSpec{}))); st != 400 {
		t.Errorf("ES256 proof with EdDSA only: status %d, want 400", st)
	}
	wantRefusal(t, s, "ES256 proof with EdDSA only", providertest.ErrDPoPAlgorithm)
	resp, err := s.HTTPClient().Get(s.DiscoveryURL())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	json.NewDecoder(resp.Body).Decode(&doc)
	if got := mustJSON(doc["dpop_signing_alg_values_supported"]); got != `["EdDSA"]` {
		t.Errorf("dpop_signing_alg_values_supported = %s, want [\"EdDSA\"]", got)
	}
}

// TestRequireDPoP checks that with Config.RequireDPoP a token request
// without a proof is refused, as oidc-provider's FAPI 2.0 profile does, and
// one with a proof is not.
func TestRequireDPoP(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, providertest.Config{RequireDPoP: true})
	if st, body, _ := post(t, s, tokenForm(assertion(t, s, t0)), nil); st != 400 || body["error"] != "invalid_dpop_proof" {
		t.Errorf("without a proof: status %d error %v, want 400 invalid_dpop_proof", st, body["error"])
	}
	wantRefusal(t, s, "without a proof", providertest.ErrDPoPProofMissing)
	if st, body, _ := post(t, s, tokenForm(assertion(t, s, t0)), dpopHeader(proof(t, s, proofSpec{}))); st != 200 || body["token_type"] != "DPoP" {
		t.Errorf("with a proof: status %d %v", st, body)
	}
}
