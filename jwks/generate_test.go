package jwks

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"testing"
)

// TestGenerate generates one key per key type; RSA generation (slow) runs
// once, for RS256 at 2048 bits.
func TestGenerate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		alg   Algorithm
		check func(pub any) bool
	}{
		{RS256, func(p any) bool { r, ok := p.(*rsa.PublicKey); return ok && r.N.BitLen() == 2048 }},
		{ES256, func(p any) bool { e, ok := p.(*ecdsa.PublicKey); return ok && e.Curve == elliptic.P256() }},
		{ES384, func(p any) bool { e, ok := p.(*ecdsa.PublicKey); return ok && e.Curve == elliptic.P384() }},
		{ES512, func(p any) bool { e, ok := p.(*ecdsa.PublicKey); return ok && e.Curve == elliptic.P521() }},
		{EdDSA, func(p any) bool { _, ok := p.(ed25519.PublicKey); return ok }},
	}
	for _, tc := range tests {
		t.Run(string(tc.alg), func(t *testing.T) {
			t.Parallel()
			k, err := Generate(tc.alg)
			if err != nil {
				t.Fatalf("Generate(%s) error = %v", tc.alg, err)
			}
			if k.Algorithm() != tc.alg || !tc.check(k.Public()) {
				t.Errorf("Generate(%s) = %v with a %T", tc.alg, k, k.Public())
			}
			tp, _ := thumbprint(k.Public())
			if k.KeyID() != tp {
				t.Errorf("Generate(%s) kid %q, want the thumbprint %q", tc.alg, k.KeyID(), tp)
			}
			signVerify(t, k)
			pem, err := k.PrivatePEM()
			if err != nil {
				t.Fatalf("Generate(%s).PrivatePEM() error = %v", tc.alg, err)
			}
			again, err := ParsePEM(pem, KeyConfig{})
			if err != nil || again.KeyID() != k.KeyID() {
				t.Errorf("ParsePEM(PrivatePEM()) = %v, %v", again, err)
			}
			if tc.alg != RS256 { // cheap: check that two keys differ
				k2, err := Generate(tc.alg)
				if err != nil || k2.KeyID() == k.KeyID() {
					t.Errorf("Generate(%s) twice gave the same key (%v)", tc.alg, err)
				}
			}
		})
	}
}

// TestGenerateRefusals checks sizes and algorithms refused before any key is
// generated.
func TestGenerateRefusals(t *testing.T) {
	t.Parallel()
	rsaTests := []struct {
		bits    int
		alg     Algorithm
		wantErr error
	}{
		{1024, RS256, errWeakKey},
		{2047, PS256, errWeakKey},
		{0, RS256, errWeakKey},
		{5000, RS256, errUnsupportedKey},
		{8192, RS256, errUnsupportedKey},
		{2049, RS256, errUnsupportedKey},
		{2048, ES256, errAlgorithmMismatch},
		{2048, EdDSA, errAlgorithmMismatch},
		{2048, "HS256", errAlgorithmMismatch},
		{2048, "", errAlgorithmMismatch},
	}
	for _, tc := range rsaTests {
		if k, err := GenerateRSA(tc.bits, tc.alg); !errors.Is(err, tc.wantErr) || k != nil {
			t.Errorf("GenerateRSA(%d, %q) = %v, %v, want nil, %v", tc.bits, tc.alg, k, err, tc.wantErr)
		}
	}
	for _, alg := range []Algorithm{"", "HS256", "none", "ES256K", "rs256"} {
		if k, err := Generate(alg); !errors.Is(err, errAlgorithmMismatch) || k != nil {
			t.Errorf("Generate(%q) = %v, %v, want nil, errAlgorithmMismatch", alg, k, err)
		}
	}
}
