package assertion_test

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/pkjwt/pkjwt/assertion"
	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
)

func newDPoP(t testing.TB, name string, alg jwks.Algorithm) *assertion.DPoP {
	t.Helper()
	d, err := assertion.NewDPoP(newKey(t, name, alg), assertion.DPoPConfig{Now: fixedClock})
	if err != nil {
		t.Fatalf("NewDPoP(%s) error = %v", alg, err)
	}
	return d
}

// verifyProof checks proof with go-jose, independently of this package,
// against the key in its own jwk header, and returns header and claims.
func verifyProof(t *testing.T, proof string) (map[string]json.RawMessage, map[string]any) {
	t.Helper()
	jws, err := jose.ParseSignedCompact(proof, []jose.SignatureAlgorithm{jose.ES256, jose.EdDSA, jose.PS256})
	if err != nil {
		t.Fatalf("go-jose ParseSigned: %v", err)
	}
	h := jws.Signatures[0].Protected
	if h.JSONWebKey == nil || !h.JSONWebKey.IsPublic() {
		t.Fatalf("proof header has no public jwk")
	}
	payload, err := jws.Verify(h.JSONWebKey)
	if err != nil {
		t.Fatalf("proof does not verify with its jwk: %v", err)
	}
	seg := strings.SplitN(proof, ".", 2)[0]
	raw, _ := base64.RawURLEncoding.DecodeString(seg)
	var hdr map[string]json.RawMessage
	if err := json.Unmarshal(raw, &hdr); err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return hdr, claims
}

func TestDPoPProof(t *testing.T) {
	for _, tc := range []struct {
		alg  jwks.Algorithm
		name string
	}{
		{jwks.ES256, testkeys.P256A},
		{jwks.EdDSA, testkeys.Ed25519A},
		{jwks.PS256, testkeys.RSA2048B},
	} {
		t.Run(string(tc.alg), func(t *testing.T) {
			d := newDPoP(t, tc.name, tc.alg)
			proof, err := d.Proof(t.Context(), "POST", "https://as.example.com/token?x=1#frag", "n-1_2.3~", "")
			if err != nil {
				t.Fatal(err)
			}
			hdr, claims := verifyProof(t, proof)
			if len(hdr) != 3 || string(hdr["typ"]) != `"dpop+jwt"` || string(hdr["alg"]) != `"`+string(tc.alg)+`"` {
				t.Errorf("header = %v, want exactly alg, typ dpop+jwt, jwk", hdr)
			}
			var jwk map[string]any
			_ = json.Unmarshal(hdr["jwk"], &jwk)
			for _, priv := range []string{"d", "p", "q", "dp", "dq", "qi", "kid"} {
				if _, ok := jwk[priv]; ok {
					t.Errorf("jwk holds %q", priv)
				}
			}
			var gj jose.JSONWebKey
			if err := gj.UnmarshalJSON(hdr["jwk"]); err != nil {
				t.Fatal(err)
			}
			tp, _ := gj.Thumbprint(crypto.SHA256)
			if got := base64.RawURLEncoding.EncodeToString(tp); got != d.Thumbprint() {
				t.Errorf("Thumbprint() = %s, go-jose says %s", d.Thumbprint(), got)
			}
			want := map[string]any{"htm": "POST", "htu": "https://as.example.com/token", "iat": float64(fixedNow.Unix()), "nonce": "n-1_2.3~"}
			for k, v := range want {
				if claims[k] != v {
					t.Errorf("claim %s = %v, want %v", k, claims[k], v)
				}
			}
			if _, ok := claims["ath"]; ok {
				t.Error("ath without an access token")
			}
			if len(claims) != 5 {
				t.Errorf("claims = %v, want jti htm htu iat nonce", claims)
			}
		})
	}
}

func TestDPoPProofAthAndFreshJTI(t *testing.T) {
	d := newDPoP(t, testkeys.P256A, jwks.ES256)
	seen := map[any]bool{}
	for range 3 {
		proof, err := d.Proof(t.Context(), "GET", "https://rs.example.com/api", "", "at-secret")
		if err != nil {
			t.Fatal(err)
		}
		_, claims := verifyProof(t, proof)
		sum := sha256.Sum256([]byte("at-secret"))
		if claims["ath"] != base64.RawURLEncoding.EncodeToString(sum[:]) {
			t.Errorf("ath = %v", claims["ath"])
		}
		if _, ok := claims["nonce"]; ok {
			t.Error("nonce without a server nonce")
		}
		if seen[claims["jti"]] {
			t.Error("jti repeated")
		}
		seen[claims["jti"]] = true
		if strings.Contains(proof, "at-secret") {
			t.Error("proof holds the access token")
		}
	}
}

func TestNewDPoPRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  *jwks.Key
	}{
		{"nil", nil},
		{"RS256", newKey(t, testkeys.RSA2048A, jwks.RS256)},
		{"ES384", newKey(t, testkeys.P384, jwks.ES384)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := assertion.NewDPoP(tc.key, assertion.DPoPConfig{})
			if !errors.Is(err, assertion.ErrInvalidConfig) {
				t.Errorf("error = %v, want ErrInvalidConfig", err)
			}
		})
	}
}

func TestDPoPProofRefuses(t *testing.T) {
	d := newDPoP(t, testkeys.Ed25519A, jwks.EdDSA)
	for _, tc := range []struct{ name, method, target, nonce string }{
		{"empty method", "", "https://a.example/", ""},
		{"method with space", "PO ST", "https://a.example/", ""},
		{"relative target", "GET", "/token", ""},
		{"ftp target", "GET", "ftp://a.example/", ""},
		{"userinfo", "GET", "https://u:p@a.example/", ""},
		{"empty host", "GET", "https:///token", ""},
		{"no host at all", "GET", "https://", ""},
		{"target newline", "GET", "https://a.example/\n", ""},
		{"nonce quote", "GET", "https://a.example/", `a"b`},
		{"nonce space", "GET", "https://a.example/", "a b"},
		{"nonce huge", "GET", "https://a.example/", strings.Repeat("n", 1025)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := d.Proof(t.Context(), tc.method, tc.target, tc.nonce, "")
			if !errors.Is(err, assertion.ErrInvalidClaims) {
				t.Errorf("error = %v, want ErrInvalidClaims", err)
			}
		})
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := d.Proof(ctx, "GET", "https://a.example/", "", ""); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: error = %v", err)
	}
}

func TestDPoPFormatShowsNoKey(t *testing.T) {
	d := newDPoP(t, testkeys.P256A, jwks.ES256)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		s := fmt.Sprintf(verb, d)
		if !strings.Contains(s, d.Thumbprint()) || strings.Contains(s, "PRIVATE") || strings.Contains(s, `"d"`) {
			t.Errorf("%s = %s", verb, s)
		}
	}
}
