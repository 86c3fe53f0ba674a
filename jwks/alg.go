package jwks

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"fmt"
	"strings"
)

// Algorithm is a JWS signature algorithm name from RFC 7518 §3.1 or RFC 8037.
// Only asymmetric algorithms exist in this package: "none" and the HMAC
// algorithms are refused everywhere.
type Algorithm string

// The algorithms a [Key] can sign with.
const (
	RS256 Algorithm = "RS256"
	RS384 Algorithm = "RS384"
	RS512 Algorithm = "RS512"
	PS256 Algorithm = "PS256"
	PS384 Algorithm = "PS384"
	PS512 Algorithm = "PS512"
	ES256 Algorithm = "ES256"
	ES384 Algorithm = "ES384"
	ES512 Algorithm = "ES512"
	EdDSA Algorithm = "EdDSA"
)

// algInfo describes how an algorithm signs.
type algInfo struct {
	kty   string      // "RSA", "EC" or "OKP"
	hash  crypto.Hash // zero for EdDSA
	pss   bool
	curve elliptic.Curve // for ES*
	size  int            // ES*: bytes of R and of S
}

var algs = map[Algorithm]algInfo{
	RS256: {kty: "RSA", hash: crypto.SHA256},
	RS384: {kty: "RSA", hash: crypto.SHA384},
	RS512: {kty: "RSA", hash: crypto.SHA512},
	PS256: {kty: "RSA", hash: crypto.SHA256, pss: true},
	PS384: {kty: "RSA", hash: crypto.SHA384, pss: true},
	PS512: {kty: "RSA", hash: crypto.SHA512, pss: true},
	ES256: {kty: "EC", hash: crypto.SHA256, curve: elliptic.P256(), size: 32},
	ES384: {kty: "EC", hash: crypto.SHA384, curve: elliptic.P384(), size: 48},
	ES512: {kty: "EC", hash: crypto.SHA512, curve: elliptic.P521(), size: 66},
	EdDSA: {kty: "OKP"},
}

// Supported reports whether alg is one of the asymmetric algorithms this
// package signs and verifies with. The comparison is exact: "rs256" is not
// supported.
func (a Algorithm) Supported() bool {
	_, ok := algs[a]
	return ok
}

// Hash returns the hash function the algorithm signs over, or zero for EdDSA
// and unsupported algorithms.
func (a Algorithm) Hash() crypto.Hash { return algs[a].hash }

// IsSymmetricOrNone reports whether name is "none" or an HMAC algorithm in any
// letter case. Such algorithms are never accepted.
func IsSymmetricOrNone(name string) bool {
	u := strings.ToUpper(name)
	return u == "NONE" || strings.HasPrefix(u, "HS")
}

// defaultAlgorithm picks the algorithm for a public key when none is given.
func defaultAlgorithm(pub crypto.PublicKey) (Algorithm, error) {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if p == nil || p.N == nil {
			return "", fmt.Errorf("jwks: RSA public key without a modulus: %w", ErrInvalidKey)
		}
		return RS256, nil
	case *ecdsa.PublicKey:
		if p == nil || p.Curve == nil {
			return "", fmt.Errorf("jwks: ECDSA public key without a curve: %w", ErrInvalidKey)
		}
		switch p.Curve {
		case elliptic.P256():
			return ES256, nil
		case elliptic.P384():
			return ES384, nil
		case elliptic.P521():
			return ES512, nil
		}
		return "", fmt.Errorf("jwks: elliptic curve %s: %w", p.Curve.Params().Name, ErrUnsupportedKey)
	case ed25519.PublicKey:
		return EdDSA, nil
	}
	return "", fmt.Errorf("jwks: public key of type %T: %w", pub, ErrUnsupportedKey)
}

// checkKey validates that pub is acceptable and fits alg.
func checkKey(pub crypto.PublicKey, alg Algorithm) error {
	if IsSymmetricOrNone(string(alg)) {
		return fmt.Errorf("jwks: algorithm %q is symmetric or none; use an asymmetric algorithm such as RS256, ES256 or EdDSA: %w", alg, ErrAlgorithmMismatch)
	}
	info, ok := algs[alg]
	if !ok {
		return fmt.Errorf("jwks: algorithm %q is not supported; use one of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA: %w", alg, ErrAlgorithmMismatch)
	}
	if _, err := defaultAlgorithm(pub); err != nil {
		return err
	}
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if bits := p.N.BitLen(); bits < MinRSABits {
			return fmt.Errorf("jwks: RSA key of %d bits; at least %d bits are required: %w", bits, MinRSABits, ErrWeakKey)
		}
		if bits := p.N.BitLen(); bits > MaxRSABits {
			return fmt.Errorf("jwks: RSA key of %d bits; at most %d bits are accepted: %w", bits, MaxRSABits, ErrUnsupportedKey)
		}
		if info.kty != "RSA" {
			return fmt.Errorf("jwks: algorithm %s does not fit an RSA key; use RS256 or PS256: %w", alg, ErrAlgorithmMismatch)
		}
	case *ecdsa.PublicKey:
		want, _ := defaultAlgorithm(p)
		if info.kty != "EC" {
			return fmt.Errorf("jwks: algorithm %s does not fit an EC key on %s; use %s: %w", alg, p.Curve.Params().Name, want, ErrAlgorithmMismatch)
		}
		if info.curve != p.Curve {
			return fmt.Errorf("jwks: algorithm %s needs curve %s, the key is on %s; use %s: %w", alg, info.curve.Params().Name, p.Curve.Params().Name, want, ErrAlgorithmMismatch)
		}
	case ed25519.PublicKey:
		if info.kty != "OKP" {
			return fmt.Errorf("jwks: algorithm %s does not fit an Ed25519 key; use EdDSA: %w", alg, ErrAlgorithmMismatch)
		}
	default:
		return fmt.Errorf("jwks: public key of type %T: %w", pub, ErrUnsupportedKey)
	}
	return nil
}

// Limits on RSA key sizes, in bits of the modulus.
const (
	// MinRSABits is the smallest RSA key accepted (RFC 7518 §3.3 requires
	// 2048 bits or more). Smaller keys are ErrWeakKey.
	MinRSABits = 2048
	// MaxRSABits is the largest RSA key accepted; it bounds the cost of a
	// signature. Larger keys are ErrUnsupportedKey.
	MaxRSABits = 8192
)
