package provider_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider"
)

func atHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// hs256 signs claims with HMAC-SHA256 keyed with the public key's PEM: the
// algorithm-confusion attack.
func hs256(t *testing.T, k *jwks.Key, claims any) string {
	hb, _ := json.Marshal(map[string]any{"alg": "HS256", "kid": k.KeyID()})
	cb, _ := json.Marshal(claims)
	in := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb)
	m := hmac.New(sha256.New, k.PublicPEM())
	m.Write([]byte(in))
	return in + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func TestIDTokenVerify(t *testing.T) {
	t.Parallel()
	rs := testKey(t, testkeys.RSA2048A, "rs")
	es := testKey(t, testkeys.P256A, "es")
	ed := testKey(t, testkeys.Ed25519A, "ed")
	attacker := testKey(t, testkeys.RSA2048C, "rs")
	f := newFakeIDP(t, rs, es, ed)
	p := f.discover(t, provider.Config{})
	v, err := p.IDTokenVerifier(provider.VerifierConfig{ClientID: "client-1", Algorithms: []jwks.Algorithm{jwks.RS256, jwks.ES256, jwks.EdDSA}})
	if err != nil {
		t.Fatal(err)
	}
	iss := f.issuer()
	const nonce = "n-0S6_WzA2Mj"
	good := func() map[string]any { return idClaims(iss) }
	with := func(kv ...any) map[string]any {
		c := good()
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(c, kv[i].(string))
			} else {
				c[kv[i].(string)] = kv[i+1]
			}
		}
		return c
	}
	valid := signJWT(t, rs, nil, good())
	parts := strings.Split(valid, ".")
	b64 := base64.RawURLEncoding.EncodeToString
	tests := []struct {
		name    string
		token   string
		exp     provider.Expected
		wantErr []error
	}{
		{name: "valid RS256", token: valid, exp: provider.Expected{Nonce: nonce}},
		{name: "valid ES256", token: signJWT(t, es, nil, good()), exp: provider.Expected{Nonce: nonce}},
		{name: "valid EdDSA", token: signJWT(t, ed, nil, good()), exp: provider.Expected{Nonce: nonce}},
		{name: "valid without kid", token: signJWT(t, es, map[string]any{"kid": nil}, good()), exp: provider.Expected{Nonce: nonce}},
		{name: "valid without typ", token: signJWT(t, rs, map[string]any{"typ": nil}, good()), exp: provider.Expected{Nonce: nonce}},
		{name: "fractional times", token: signJWT(t, rs, nil, with("exp", float64(testNow.Unix())+600.5, "iat", float64(testNow.Unix())-0.25)), exp: provider.Expected{Nonce: nonce}},

		// Algorithms and headers.
		{name: "alg none", token: b64([]byte(`{"alg":"none"}`)) + "." + parts[1] + ".", wantErr: []error{provider.ErrUnsupportedAlgorithm}},
		{name: "alg nOnE with an empty signature: the algorithm is judged first", token: b64([]byte(`{"alg":"nOnE"}`)) + "." + parts[1] + ".", wantErr: []error{provider.ErrUnsupportedAlgorithm}},
		{name: "header ALG in upper case is no alg", token: signJWT(t, rs, map[string]any{"alg": nil, "ALG": "RS256"}, good()), exp: provider.Expected{Nonce: nonce}, wantErr: []error{provider.ErrUnsupportedAlgorithm}},
		{name: "typ at+jwt is not an ID token", token: signJWT(t, rs, map[string]any{"typ": "at+jwt"}, good()), exp: provider.Expected{Nonce: nonce}, wantErr: []error{provider.ErrUnsupportedHeaderForTest}},
		{name: "typ logout+jwt is not an ID token", token: signJWT(t, rs, map[string]any{"typ": "logout+jwt"}, good()), exp: provider.Expected{Nonce: nonce}, wantErr: []error{provider.ErrUnsupportedHeaderForTest}},
		{name: "typ application/jwt", token: signJWT(t, rs, map[string]any{"typ": "application/jwt"}, good()), exp: provider.Expected{Nonce: nonce}},
		{name: "typ at+jwt refused before any key lookup", token: signJWT(t, attacker, map[string]any{"typ": "at+jwt", "kid": "unknown"}, good()), exp: provider.Expected{Nonce: nonce}, wantErr: []error{provider.ErrUnsupportedHeaderForTest}},
		{name: "alg none with a signature", token: b64([]byte(`{"alg":"none","kid":"rs"}`)) + "." + parts[1] + "." + parts[2], wantErr: []error{provider.ErrUnsupportedAlgorithm}},
		{name: "alg None", token: b64([]byte(`{"alg":"None","kid":"rs"}`)) + "." + parts[1] + "." + parts[2], wantErr: []error{provider.ErrUnsupportedAlgorithm}},
		{name: "alg HS256 keyed with the public key", token: hs256(t, rs, good()), exp: provider.Expected{Nonce: nonce}, wantErr: []error{provider.ErrUnsupportedAlgorithm}},
		{name: "alg hs256", token: b64([]byte(`{"alg":"hs256","kid":"rs"}`)) + "." + parts[1] + "." + parts[2], wantErr: []error{provider.ErrUnsupportedAlgorithm}},
		{name: "alg rs256 lower case", token: b64([]byte(`{"alg":"rs256","kid":"rs"}`)) + "." + parts[1] + "." + parts[2], wantErr: []error{provider.ErrUnsupportedAlgorithm}},
		{name: "alg not in allow-list", token: b64([]byte(`{"alg":"PS256","kid":"rs"}`)) + "." + parts[1] + "." + parts[2], wantErr: []error{provider.ErrUnsupportedAlgorithm}},
		{name: "alg missing", token: b64([]byte(`{"kid":"rs"}`)) + "." + parts[1] + "." + parts[2], wantErr: []error{provider.ErrUnsupportedAlgorithm}},
		{name: "alg does not fit the kid's key", token: b64([]byte(`{"alg":"ES256","kid":"rs"}`)) + "." + parts[1] + "." + strings.Repeat("A", 86), wantErr: []error{provider.ErrInvalidSignature, jwks.ErrUnknownKey}},
		{name: "crit", token: signJWT(t, rs, map[string]any{"crit": []string{"b64"}, "b64": false}, good()), exp: provider.Expected{Nonce: nonce}, wantErr: []error{provider.ErrUnsupportedHeaderForTest}},
		{name: "embedded jwk not trusted", token: signJWT(t, attacker, map[string]any{"jwk": testkeys.PublicJWK(attacker)}, good()), exp: provider.Expected{Nonce: nonce}, wantErr: []error{provider.ErrInvalidSignature}},
		{name: "jku not fetched", token: signJWT(t, attacker, map[string]any{"jku": "http://127.0.0.1:1/jwks"}, good()), exp: provider.Expected{Nonce: nonce}, wantErr: []error{provider.ErrInvalidSignature}},
		{name: "x5c not trusted", token: signJWT(t, attacker, map[string]any{"x5c": []string{"MIIB"}}, good()), exp: provider.Expected{Nonce: nonce}, wantErr: []error{provider.ErrInvalidSignature}},
		{name: "unknown kid", token: signJWT(t, attacker, map[string]any{"kid": "nope"}, good()), exp: provider.Expected{Nonce: nonce}, wantErr: []error{provider.ErrInvalidSignature, jwks.ErrUnknownKey}},
		{name: "tampered claims", token: parts[0] + "." + b64([]byte(`{"iss":"`+iss+`","sub":"admin"}`)) + "." + parts[2], wantErr: []error{provider.ErrInvalidSignature}},
		{name: "signature of another token", token: parts[0] + "." + parts[1] + "." + strings.Split(signJWT(t, rs, nil, with("sub", "x")), ".")[2], wantErr: []error{provider.ErrInvalidSignature}},

		// One reader, one rule: a repeated member is malformed, even signed.
		{name: "signed claims with sub twice", token: signJWT(t, rs, nil, appendMember(t, good(), `"sub":"mallory"`)), exp: provider.Expected{Nonce: nonce}, wantErr: []error{provider.ErrMalformedToken}},
		{name: "signed claims with sub twice, escaped", token: signJWT(t, rs, nil, appendMember(t, good(), `"\u0073ub":"mallory"`)), exp: provider.Expected{Nonce: nonce}, wantErr: []error{provider.ErrMalformedToken}},
		{name: "signed header with alg twice", token: signJWT(t, rs, map[string]any{"alg": nil}, good(), `"alg":"RS256","alg":"RS256"`), exp: provider.Expected{Nonce: nonce}, wantErr: []error{provider.ErrMalformedToken}},

		// Structure.
		{name: "two segments", token: parts[0] + "." + parts[1], wantErr: []error{provider.ErrMalformedToken}},
		{name: "four segments", token: valid + ".x", wantErr: []error{provider.ErrMalformedToken}},
		{name: "JWE-like five segments", token: "a.b.c.d.e", wantErr: []error{provider.ErrMalformedToken}},
		{name: "JSON serialization", token: `{"protected":"` + parts[0] + `","payload":"` + parts[1] + `","signature":"` + parts[2] + `"}`, wantErr: []error{provider.ErrMalformedToken}},
		{name: "padding", token: parts[0] + "=." + parts[1] + "." + parts[2], wantErr: []error{provider.ErrMalformedToken}},
		{name: "space", token: " " + valid, wantErr: []error{provider.ErrMalformedToken}},
		{name: "empty signature", token: parts[0] + "." + parts[1] + ".", wantErr: []error{provider.ErrMalformedToken}},
		{name: "empty", token: "", wantErr: []error{provider.ErrMalformedToken}},
		{name: "oversize", token: parts[0] + "." + strings.Repeat("A", 40<<10) + "." + parts[2], wantErr: []error{provider.ErrMalformedToken}},
		{name: "oversize header", token: b64([]byte(`{"alg":"RS256","kid":"rs","x":"`+strings.Repeat("x", 4<<10)+`"}`)) + "." + parts[1] + "." + parts[2], wantErr: []error{provider.ErrMalformedToken}},
		{name: "header not JSON", token: b64([]byte("RS256")) + "." + parts[1] + "." + parts[2], wantErr: []error{provider.ErrMalformedToken}},
		{name: "claims an array", token: signJWT(t, rs, nil, []byte(`["iss"]`)), wantErr: []error{provider.ErrMalformedToken}},
		{name: "exp a string", token: signJWT(t, rs, nil, with("exp", "tomorrow")), exp: provider.Expected{Nonce: nonce}, wantErr: []error{provider.ErrMalformedToken}},
		{name: "aud a number", token: signJWT(t, rs, nil, with("aud", 7)), exp: provider.Expected{Nonce: nonce}, wantErr: []error{provider.ErrMalformedToken}},

		// Claims.
		{name: "iss with trailing slash", token: signJWT(t, rs, nil, with("iss", iss+"/")), exp: provider.Expected{Nonce: nonce}, wantErr: []error{provider.ErrInvalidIssuer}},
		{name: "iss missing", token: signJWT(t, rs, nil, with("iss", nil)), exp: provider.Expected{Nonce: nonce}, wantErr: []error{provider.ErrInvalidIssuer}},
		{name: "sub missing", token: signJWT(t, rs, nil, with("sub", nil)), exp: provider.Expected{Nonce: nonce}, wantErr: []error{provider.ErrMissingSubjectForTest}},
		{name: "aud missing", token: signJWT(t, rs, nil, with("aud", nil)), exp: provider.Expected{Nonce: nonce}, wantErr: []error{provider.ErrInvalidAudience}},
		{name: "aud another client", token: signJWT(t, rs, nil, with("aud", "client-2")), exp: provider.Expected{Nonce: nonce}, wantErr: []error{provider.ErrInvalidAudience}},
		{name: "aud array with azp", token: signJWT(t, rs, nil, with("aud", []string{"client-1", "api"}, "azp", "client-1")), exp: provider.Expected{Nonce: nonce}},
		{name: "aud array of one without azp", token: signJWT(t, rs, nil, with("aud", []string{"client-1"})), exp: provider.Expected{Nonce: nonce}},
		{name: "aud array without azp", token: signJWT(t, rs, nil, with("aud", []string{"client-1", "api"})), exp: provider.Expected{Nonce: nonce}, wantErr: []error{provider.ErrInvalidAuthorizedPartyForTest}},
		{name: "azp another client", token: signJWT(t, rs, nil, with("azp", "client-2")), exp: provider.Expected{Nonce: nonce}, wantErr: []error{provider.ErrInvalidAuthorizedPartyForTest}},
		{name: "exp missing", token: signJWT(t, rs, nil, with("exp", nil)), exp: provider.Expected{Nonce: nonce}, wantErr: []error{provider.ErrTokenExpired}},
		{name: "expired beyond leeway", token: signJWT(t, rs, nil, with("exp", testNow.Add(-61*time.Second).Unix())), exp: provider.Expected{Nonce: nonce}, wantErr: []error{provider.ErrTokenExpired}},
		{name: "expired within leeway", token: signJWT(t, rs, nil, with("exp", testNow.Add(-59*time.Second).Unix())), exp: provider.Expected{Nonce: nonce}},
		{name: "exp huge", token: signJWT(t, rs, nil, with("exp", 1e300)), exp: provider.Expected{Nonce: nonce}, wantErr: []error{provider.ErrTokenExpired}},
		{name: "exp negative", token: signJWT(t, rs, nil, with("exp", -1)), exp: provider.Expected{Nonce: nonce}, wantErr: []error{provider.ErrTokenExpired}},
		{name: "iat missing", token: signJWT(t, rs, nil, with("iat", nil)), exp: provider.Expected{Nonce: nonce}, wantErr: []error{provider.ErrMissingIssuedAtForTest}},
		{name: "iat in the future", token: signJWT(t, rs, nil, with("iat", testNow.Add(2*time.Minute).Unix())), exp: provider.Expected{Nonce: nonce}, wantErr: []error{provider.ErrIssuedInFutureForTest}},
		{name: "nbf in the future", token: signJWT(t, rs, nil, with("nbf", testNow.Add(2*time.Minute).Unix())), exp: provider.Expected{Nonce: nonce}, wantErr: []error{provider.ErrTokenNotYetValid}},
		{name: "nbf past", token: signJWT(t, rs, nil, with("nbf", testNow.Add(-time.Minute).Unix())), exp: provider.Expected{Nonce: nonce}},
		{name: "nonce missing", token: signJWT(t, rs, nil, with("nonce", nil)), exp: provider.Expected{Nonce: nonce}, wantErr: []error{provider.ErrNonceMismatch}},
		{name: "nonce different", token: signJWT(t, rs, nil, with("nonce", "other")), exp: provider.Expected{Nonce: nonce}, wantErr: []error{provider.ErrNonceMismatch}},
		{name: "nonce not asked for", token: valid, wantErr: []error{provider.ErrNonceMismatch}},
		{name: "no nonce either side", token: signJWT(t, rs, nil, with("nonce", nil))},
		{name: "refresh without nonce", token: signJWT(t, rs, nil, with("nonce", nil)), exp: provider.Expected{Nonce: nonce, Refresh: true}},
		{name: "refresh with the original nonce", token: valid, exp: provider.Expected{Nonce: nonce, Refresh: true}},
		{name: "refresh with another nonce", token: signJWT(t, rs, nil, with("nonce", "other")), exp: provider.Expected{Nonce: nonce, Refresh: true}, wantErr: []error{provider.ErrNonceMismatch}},
		{name: "refresh with a nonce, none original", token: valid, exp: provider.Expected{Refresh: true}, wantErr: []error{provider.ErrNonceMismatch}},
		{name: "backend skipping the nonce check", token: valid, exp: provider.Expected{InsecureSkipNonceCheck: true}},
		{name: "backend skipping the nonce check, no nonce", token: signJWT(t, rs, nil, with("nonce", nil)), exp: provider.Expected{InsecureSkipNonceCheck: true}},
		{name: "backend skipping the nonce check keeps aud", token: signJWT(t, rs, nil, with("aud", "client-2")), exp: provider.Expected{InsecureSkipNonceCheck: true}, wantErr: []error{provider.ErrInvalidAudience}},
		{name: "at_hash matches", token: signJWT(t, rs, nil, with("at_hash", atHash("at-1"))), exp: provider.Expected{Nonce: nonce, AccessToken: "at-1"}},
		{name: "at_hash mismatch", token: signJWT(t, rs, nil, with("at_hash", atHash("at-2"))), exp: provider.Expected{Nonce: nonce, AccessToken: "at-1"}, wantErr: []error{provider.ErrAccessTokenHashMismatch}},
		{name: "at_hash absent in code flow", token: valid, exp: provider.Expected{Nonce: nonce, AccessToken: "at-1"}},
		{name: "max_age met", token: valid, exp: provider.Expected{Nonce: nonce, MaxAge: 5 * time.Minute}},
		{name: "max_age exceeded", token: valid, exp: provider.Expected{Nonce: nonce, MaxAge: 30 * time.Second}, wantErr: []error{provider.ErrAuthTimeInvalid}},
		{name: "max_age without auth_time", token: signJWT(t, rs, nil, with("auth_time", nil)), exp: provider.Expected{Nonce: nonce, MaxAge: 5 * time.Minute}, wantErr: []error{provider.ErrAuthTimeInvalid}},
		{name: "auth_time in the future", token: signJWT(t, rs, nil, with("auth_time", testNow.Add(time.Hour).Unix())), exp: provider.Expected{Nonce: nonce, MaxAge: 5 * time.Minute}, wantErr: []error{provider.ErrAuthTimeInvalid}},
		{name: "acr met", token: signJWT(t, rs, nil, with("acr", "urn:mace:incommon:iap:silver")), exp: provider.Expected{Nonce: nonce, ACR: []string{"urn:mace:incommon:iap:bronze", "urn:mace:incommon:iap:silver"}}},
		{name: "acr missing", token: valid, exp: provider.Expected{Nonce: nonce, ACR: []string{"gold"}}, wantErr: []error{provider.ErrACRNotSatisfied}},
		{name: "acr different", token: signJWT(t, rs, nil, with("acr", "bronze")), exp: provider.Expected{Nonce: nonce, ACR: []string{"gold"}}, wantErr: []error{provider.ErrACRNotSatisfied}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tok, err := v.Verify(t.Context(), tc.token, tc.exp)
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Verify(%q) error = %v, want nil", tc.name, err)
				}
				if tok.Subject == "" || tok.Issuer != iss {
					t.Fatalf("Verify(%q) = %+v", tc.name, tok)
				}
				return
			}
			if tok != nil {
				t.Fatalf("Verify(%q) returned a token with error %v", tc.name, err)
			}
			for _, want := range tc.wantErr {
				if !errors.Is(err, want) {
					t.Fatalf("Verify(%q) error = %v, want %v", tc.name, err, want)
				}
			}
			if tc.token != "" && strings.Contains(err.Error(), tc.token) || len(parts[2]) > 0 && strings.Contains(err.Error(), parts[2]) {
				t.Fatalf("Verify(%q) error carries the token", tc.name)
			}
		})
	}
}

func TestIDTokenFields(t *testing.T) {
	t.Parallel()
	rs := testKey(t, testkeys.RSA2048A, "rs")
	f := newFakeIDP(t, rs)
	p := f.discover(t, provider.Config{})
	v, err := p.IDTokenVerifier(provider.VerifierConfig{ClientID: "client-1"})
	if err != nil {
		t.Fatal(err)
	}
	c := idClaims(f.issuer())
	c["email"] = "ada@example.com"
	c["acr"] = "silver"
	tok, err := v.Verify(t.Context(), signJWT(t, rs, nil, c), provider.Expected{Nonce: "n-0S6_WzA2Mj"})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Subject != "user-42" || tok.SessionID != "session-7" || tok.Nonce != "n-0S6_WzA2Mj" || tok.ACR != "silver" ||
		len(tok.Audience) != 1 || tok.Audience[0] != "client-1" ||
		!tok.Expiry.Equal(testNow.Add(10*time.Minute)) || !tok.IssuedAt.Equal(testNow.Add(-time.Minute)) || !tok.AuthTime.Equal(testNow.Add(-2*time.Minute)) {
		t.Fatalf("Verify = %+v", tok)
	}
	var extra struct {
		Email string `json:"email"`
	}
	if err := tok.Claims(&extra); err != nil || extra.Email != "ada@example.com" {
		t.Fatalf("Claims = %+v, %v", extra, err)
	}
}

func TestIDTokenVerifierConfig(t *testing.T) {
	t.Parallel()
	f := newFakeIDP(t)
	f.edit(func(m map[string]any) {
		m["id_token_signing_alg_values_supported"] = []string{"RS256", "HS256", "none"}
	})
	p := f.discover(t, provider.Config{})
	tests := []struct {
		name    string
		cfg     provider.VerifierConfig
		wantErr []error // nil: no error
	}{
		{"defaults", provider.VerifierConfig{ClientID: "c"}, nil},
		{"no client ID", provider.VerifierConfig{}, []error{provider.ErrInvalidConfig}},
		{"HS256 asked", provider.VerifierConfig{ClientID: "c", Algorithms: []jwks.Algorithm{"HS256"}}, []error{provider.ErrInvalidConfig, provider.ErrUnsupportedAlgorithm}},
		{"none asked", provider.VerifierConfig{ClientID: "c", Algorithms: []jwks.Algorithm{"none"}}, []error{provider.ErrInvalidConfig, provider.ErrUnsupportedAlgorithm}},
		{"not listed by the provider", provider.VerifierConfig{ClientID: "c", Algorithms: []jwks.Algorithm{jwks.ES256}}, []error{provider.ErrUnsupportedAlgorithm}},
		{"intersection", provider.VerifierConfig{ClientID: "c", Algorithms: []jwks.Algorithm{jwks.ES256, jwks.RS256}}, nil},
		{"negative leeway", provider.VerifierConfig{ClientID: "c", Leeway: -time.Second}, []error{provider.ErrInvalidConfig}},
		{"leeway too large", provider.VerifierConfig{ClientID: "c", Leeway: time.Hour}, []error{provider.ErrInvalidConfig}},
		{"leeway at the ceiling", provider.VerifierConfig{ClientID: "c", Leeway: 5 * time.Minute}, nil},
		{"negative MaxTokenBytes", provider.VerifierConfig{ClientID: "c", MaxTokenBytes: -1}, []error{provider.ErrInvalidConfig}},
	}
	for _, tc := range tests {
		_, err := p.IDTokenVerifier(tc.cfg)
		if tc.wantErr == nil && err != nil {
			t.Errorf("IDTokenVerifier(%q) error = %v, want nil", tc.name, err)
		}
		if tc.wantErr != nil && err == nil {
			t.Errorf("IDTokenVerifier(%q) error = nil, want %v", tc.name, tc.wantErr)
		}
		for _, want := range tc.wantErr {
			if !errors.Is(err, want) {
				t.Errorf("IDTokenVerifier(%q) error = %v, want %v", tc.name, err, want)
			}
		}
	}
	// The provider's HS256 and none never enter the allow-list.
	_, err := p.IDTokenVerifier(provider.VerifierConfig{ClientID: "c", Algorithms: []jwks.Algorithm{jwks.ES256}})
	if !errors.Is(err, provider.ErrUnsupportedAlgorithm) {
		t.Errorf("IDTokenVerifier(ES256 not listed) error = %v, want %v", err, provider.ErrUnsupportedAlgorithm)
	}
}

// appendMember returns the JSON of claims with member (raw JSON) added last.
func appendMember(t testing.TB, claims any, member string) []byte {
	t.Helper()
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return append(append(b[:len(b)-1], ","+member...), '}')
}
