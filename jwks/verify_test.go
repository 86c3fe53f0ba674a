package jwks

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"math/big"
	"testing"

	"github.com/go-jose/go-jose/v4"
	ijose "github.com/pkjwt/pkjwt/internal/jose"
	"github.com/pkjwt/pkjwt/internal/testkeys"
)

// VerifySignature checks a signature with the module's JOSE core, as the
// verifiers of package provider and Remote do: here with keys made and
// signatures signed by this package and by go-jose, as cross-checks.
func VerifySignature(pub crypto.PublicKey, alg Algorithm, input, sig []byte) error {
	info, ok := alg.info()
	if !ok {
		return ijose.ErrKeyMismatch
	}
	return ijose.VerifySignature(pub, info, input, sig)
}

func TestVerifySignature(t *testing.T) {
	t.Parallel()
	input := []byte("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0")
	rsaKey := testKey(t, testkeys.RSA2048A)
	ecKey := testKey(t, testkeys.P256A)
	edKey := testKey(t, testkeys.Ed25519A)
	sign := func(k *Key) []byte {
		s, err := k.Sign(t.Context(), input)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	rsaSig, ecSig, edSig := sign(rsaKey), sign(ecKey), sign(edKey)
	flip := func(b []byte) []byte { c := append([]byte(nil), b...); c[len(c)/2] ^= 1; return c }
	// The same ECDSA signature in ASN.1 DER, as crypto.Signer returns it.
	digest := sha256.Sum256(input)
	ecDER, _ := testkeys.Signer(testkeys.P256A).Sign(rand.Reader, digest[:], crypto.SHA256)
	// PS256 with a salt of the maximum length instead of the hash length.
	pssMax, _ := rsa.SignPSS(rand.Reader, testkeys.Signer(testkeys.RSA2048A).(*rsa.PrivateKey), crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})

	// A valid RS256 signature by a 1024-bit key: refused for the key's size.
	var rsa1024Sig struct {
		pub crypto.PublicKey
		sig []byte
	}
	{
		k := testkeys.Signer(testkeys.RSA1024).(*rsa.PrivateKey)
		rsa1024Sig.pub = &k.PublicKey
		rsa1024Sig.sig, _ = rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, digest[:])
		if rsa.VerifyPKCS1v15(&k.PublicKey, crypto.SHA256, digest[:], rsa1024Sig.sig) != nil {
			t.Fatal("RSA 1024 control signature does not verify")
		}
	}
	tests := []struct {
		name    string
		pub     crypto.PublicKey
		alg     Algorithm
		sig     []byte
		wantErr error
	}{
		{"RS256", rsaKey.Public(), RS256, rsaSig, nil},
		{"ES256", ecKey.Public(), ES256, ecSig, nil},
		{"EdDSA", edKey.Public(), EdDSA, edSig, nil},
		{"RS256 tampered", rsaKey.Public(), RS256, flip(rsaSig), ijose.ErrSignature},
		{"ES256 tampered", ecKey.Public(), ES256, flip(ecSig), ijose.ErrSignature},
		{"EdDSA tampered", edKey.Public(), EdDSA, flip(edSig), ijose.ErrSignature},
		{"RS256 as RS384", rsaKey.Public(), RS384, rsaSig, ijose.ErrSignature},
		{"RS256 as PS256", rsaKey.Public(), PS256, rsaSig, ijose.ErrSignature},
		{"PS256 with a longer salt", rsaKey.Public(), PS256, pssMax, ijose.ErrSignature},
		{"ES256 in DER", ecKey.Public(), ES256, ecDER, ijose.ErrSignature},
		{"ES256 truncated", ecKey.Public(), ES256, ecSig[:63], ijose.ErrSignature},
		{"empty signature", ecKey.Public(), ES256, nil, ijose.ErrSignature},
		{"other key", testKey(t, testkeys.P256B).Public(), ES256, ecSig, ijose.ErrSignature},
		{"short Ed25519 public key", ed25519.PublicKey(edKey.Public().(ed25519.PublicKey)[:31]), EdDSA, edSig, ijose.ErrKeyMismatch},
		{"ES384 with P-256", ecKey.Public(), ES384, ecSig, ijose.ErrKeyMismatch},
		{"ES256 with P-384", testKey(t, testkeys.P384).Public(), ES256, make([]byte, 64), ijose.ErrKeyMismatch},
		{"RS256 with EC", ecKey.Public(), RS256, ecSig, ijose.ErrKeyMismatch},
		{"ES256 with RSA", rsaKey.Public(), ES256, rsaSig, ijose.ErrKeyMismatch},
		{"EdDSA with EC", ecKey.Public(), EdDSA, ecSig, ijose.ErrKeyMismatch},
		{"ES256 with Ed25519", edKey.Public(), ES256, edSig, ijose.ErrKeyMismatch},
		{"HS256", rsaKey.Public(), "HS256", rsaSig, ijose.ErrKeyMismatch},
		{"none", rsaKey.Public(), "none", nil, ijose.ErrKeyMismatch},
		{"empty alg", rsaKey.Public(), "", rsaSig, ijose.ErrKeyMismatch},
		{"HMAC secret as key", []byte("secret"), RS256, rsaSig, ijose.ErrKeyMismatch},
		{"nil key", nil, RS256, rsaSig, ijose.ErrKeyMismatch},
		{"typed nil RSA key", (*rsa.PublicKey)(nil), RS256, rsaSig, ijose.ErrKeyMismatch},
		{"typed nil EC key", (*ecdsa.PublicKey)(nil), ES256, ecSig, ijose.ErrKeyMismatch},
		{"P-224 key", &p224Key(t).PublicKey, ES256, ecSig, ijose.ErrKeyMismatch},
		{"RSA 1024 key", rsa1024Sig.pub, RS256, rsa1024Sig.sig, ijose.ErrKeyMismatch},
		{"RSA key above the maximum", &rsa.PublicKey{N: new(big.Int).Lsh(big.NewInt(1), ijose.MaxRSABits+1), E: 65537}, RS256, rsaSig, ijose.ErrKeyMismatch},
	}
	for _, tc := range tests {
		err := VerifySignature(tc.pub, tc.alg, input, tc.sig)
		if (tc.wantErr == nil && err != nil) || !errors.Is(err, tc.wantErr) {
			t.Errorf("VerifySignature(%s) error = %v, want %v", tc.name, err, tc.wantErr)
		}
	}
}

// TestVerifyGoJoseSignatures verifies signatures go-jose makes, for every
// algorithm, so that our verification agrees with an independent signer.
func TestVerifyGoJoseSignatures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		alg  Algorithm
	}{
		{testkeys.RSA2048A, RS256}, {testkeys.RSA2048A, RS384}, {testkeys.RSA2048A, RS512},
		{testkeys.RSA2048B, PS256}, {testkeys.RSA2048B, PS384}, {testkeys.RSA2048B, PS512},
		{testkeys.P256ShortX, ES256}, {testkeys.P384, ES384}, {testkeys.P521, ES512},
		{testkeys.Ed25519A, EdDSA},
	}
	for _, tc := range cases {
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(tc.alg), Key: testkeys.Signer(tc.name)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		obj, err := signer.Sign([]byte(`{"iss":"x"}`))
		if err != nil {
			t.Fatal(err)
		}
		compact, _ := obj.CompactSerialize()
		input, sig := splitJWS(t, compact)
		if err := VerifySignature(testkeys.Signer(tc.name).Public(), tc.alg, input, sig); err != nil {
			t.Errorf("VerifySignature(go-jose %s %s) error = %v", tc.alg, tc.name, err)
		}
		// And go-jose verifies ours (signVerify checks with go-jose too).
		k, err := NewKey(t.Context(), testkeys.Signer(tc.name), KeyConfig{Algorithm: tc.alg})
		if err != nil {
			t.Fatal(err)
		}
		signVerify(t, k)
	}
}

func splitJWS(t *testing.T, compact string) (input, sig []byte) {
	t.Helper()
	last := -1
	for i := len(compact) - 1; i >= 0; i-- {
		if compact[i] == '.' {
			last = i
			break
		}
	}
	s, err := b64.DecodeString(compact[last+1:])
	if err != nil {
		t.Fatal(err)
	}
	return []byte(compact[:last]), s
}

func TestAlgorithm(t *testing.T) {
	t.Parallel()
	for _, a := range []Algorithm{RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA} {
		if _, ok := a.info(); !ok {
			t.Errorf("%s is not supported", a)
		}
	}
	for _, a := range []Algorithm{"", "none", "HS256", "rs256", "ES256K", "RSA-OAEP"} {
		if _, ok := a.info(); ok {
			t.Errorf("%q is supported", a)
		}
	}
}
