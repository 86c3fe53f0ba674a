package jwks

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"fmt"

	"github.com/pkjwt/pkjwt/internal/jose"
)

// Generate creates a new key for alg: RSA 2048 bits for RS256 and PS256
// (see [GenerateRSA] for larger keys), P-256, P-384 or P-521 for ES256, ES384
// or ES512, Ed25519 for EdDSA and Ed25519. The key ID is the RFC 7638
// thumbprint.
// An unsupported alg wraps ErrInvalidConfig.
func Generate(alg Algorithm) (*Key, error) {
	info, ok := alg.info()
	if !ok {
		return nil, fmt.Errorf("jwks: cannot generate a key for algorithm %q: %w", alg, errAlgorithmMismatch)
	}
	switch info.Kty {
	case "RSA":
		return GenerateRSA(2048, alg)
	case "EC":
		k, err := ecdsa.GenerateKey(info.Curve, rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("jwks: generate: %v", err)
		}
		return NewKey(context.Background(), k, KeyConfig{Algorithm: alg})
	default:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("jwks: generate: %v", err)
		}
		return NewKey(context.Background(), k, KeyConfig{Algorithm: alg})
	}
}

// GenerateRSA creates a new RSA key of bits (2048, 3072 or 4096) for an RSA
// algorithm such as RS256 or PS256. Other sizes (below 2048, above 4096, or
// between the three) and a non-RSA alg wrap ErrInvalidConfig.
func GenerateRSA(bits int, alg Algorithm) (*Key, error) {
	switch {
	case bits < jose.MinRSABits:
		return nil, fmt.Errorf("jwks: RSA key of %d bits; at least %d bits are required (use 2048, 3072 or 4096): %w", bits, jose.MinRSABits, errWeakKey)
	case bits > maxSigningRSABits:
		return nil, checkSigningRSABits(bits)
	case bits != 2048 && bits != 3072 && bits != 4096:
		return nil, fmt.Errorf("jwks: RSA key of %d bits; use 2048, 3072 or 4096: %w", bits, errUnsupportedKey)
	}
	if info, ok := alg.info(); !ok || info.Kty != "RSA" {
		return nil, fmt.Errorf("jwks: algorithm %q for an RSA key; use RS256 or PS256: %w", alg, errAlgorithmMismatch)
	}
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, fmt.Errorf("jwks: generate: %v", err)
	}
	return NewKey(context.Background(), crypto.Signer(k), KeyConfig{Algorithm: alg})
}
