package provider

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"testing"

	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
)

// TestVerifySignatureAgrees checks the hot-path signature check against
// jwks.VerifySignature for every algorithm, valid and tampered.
func TestVerifySignatureAgrees(t *testing.T) {
	t.Parallel()
	cases := []struct {
		key string
		alg jwks.Algorithm
	}{
		{testkeys.RSA2048A, jwks.RS256}, {testkeys.RSA2048A, jwks.RS384}, {testkeys.RSA2048A, jwks.RS512},
		{testkeys.RSA3072, jwks.PS256}, {testkeys.RSA3072, jwks.PS384}, {testkeys.RSA4096, jwks.PS512},
		{testkeys.P256A, jwks.ES256}, {testkeys.P256ShortX, jwks.ES256}, {testkeys.P384, jwks.ES384}, {testkeys.P521, jwks.ES512},
		{testkeys.Ed25519A, jwks.EdDSA},
	}
	input := []byte("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0")
	for _, tc := range cases {
		k, err := jwks.NewKey(context.Background(), testkeys.Signer(tc.key), jwks.KeyConfig{Algorithm: tc.alg})
		if err != nil {
			t.Fatal(err)
		}
		sig, err := k.Sign(context.Background(), input)
		if err != nil {
			t.Fatal(err)
		}
		bad := append([]byte(nil), sig...)
		bad[len(bad)/2] ^= 1
		for _, c := range []struct {
			name string
			in   []byte
			sig  []byte
			alg  jwks.Algorithm
		}{
			{"valid", input, sig, tc.alg},
			{"tampered signature", input, bad, tc.alg},
			{"tampered input", append([]byte("x"), input...), sig, tc.alg},
			{"short signature", input, sig[:len(sig)-1], tc.alg},
			{"ES256", input, sig, jwks.ES256},
			{"RS256", input, sig, jwks.RS256},
			{"PS256", input, sig, jwks.PS256},
			{"ES384", input, sig, jwks.ES384},
			{"EdDSA", input, sig, jwks.EdDSA},
			{"HS256", input, sig, "HS256"},
		} {
			want := jwks.VerifySignature(k.Public(), c.alg, c.in, c.sig) == nil
			if got := verifySignature(k.Public(), c.alg, c.in, c.sig); got != want {
				t.Errorf("%s %s %s: verifySignature = %v, jwks.VerifySignature = %v", tc.key, tc.alg, c.name, got, want)
			}
			if c.name == "valid" && !want {
				t.Errorf("%s %s: valid signature refused", tc.key, tc.alg)
			}
		}
	}
}

// TestATHash checks at_hash against the example of OpenID Connect Core 1.0
// Appendix A.4.
func TestATHash(t *testing.T) {
	t.Parallel()
	if !atHashMatches(jwks.RS256, "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y", []byte("77QmUPtjPfzWtF2AnpK9RQ")) {
		t.Fatal("at_hash of the OIDC Core example does not match")
	}
	if atHashMatches(jwks.RS256, "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Z", []byte("77QmUPtjPfzWtF2AnpK9RQ")) {
		t.Fatal("at_hash matched another access token")
	}
	if atHashMatches(jwks.RS256, "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y", []byte("77QmUPtjPfzWtF2AnpK9RQA")) {
		t.Fatal("at_hash matched with a trailing character")
	}
}

// TestVerifySignatureCurveMismatch: a P-384 key's valid signature over a
// SHA-256 digest is refused under ES256, which names P-256.
func TestVerifySignatureCurveMismatch(t *testing.T) {
	t.Parallel()
	priv := testkeys.Signer(testkeys.P384).(*ecdsa.PrivateKey)
	input := []byte("eyJhbGciOiJFUzI1NiJ9.e30")
	sum := sha256.Sum256(input)
	r, s, err := ecdsa.Sign(rand.Reader, priv, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 96)
	r.FillBytes(sig[:48])
	s.FillBytes(sig[48:])
	if !ecdsa.Verify(&priv.PublicKey, sum[:], r, s) {
		t.Fatal("probe signature does not verify")
	}
	if verifySignature(&priv.PublicKey, jwks.ES256, input, sig) {
		t.Fatal("ES256 accepted with a P-384 key")
	}
}
