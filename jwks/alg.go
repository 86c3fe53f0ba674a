package jwks

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"fmt"
	"strings"

	"github.com/pkjwt/pkjwt/internal/jose"
)

// Algorithm is a JWS signature algorithm name from RFC 7518 §3.1, RFC 8037
// or RFC 9864.
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
	// Ed25519 is RFC 9864's fully-specified name for EdDSA over Ed25519: the
	// same signature as EdDSA with an Ed25519 key, under another name. A
	// key loaded or generated with it signs with "alg":"Ed25519" and
	// publishes that alg in its JWK. Names are compared exactly everywhere,
	// so choose the one the other side lists (oidc-provider lists both).
	Ed25519 Algorithm = "Ed25519"
)

// info returns the algorithm's entry in the module's JOSE table; ok is
// false for an unsupported name (compared exactly: "rs256" is not RS256).
func (a Algorithm) info() (*jose.Alg, bool) { return jose.Lookup(string(a)) }

// defaultAlgorithm picks the algorithm for a public key when none is given.
func defaultAlgorithm(pub crypto.PublicKey) (Algorithm, error) {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if p == nil || p.N == nil {
			return "", fmt.Errorf("jwks: RSA public key without a modulus: %w", errInvalidKey)
		}
		return RS256, nil
	case *ecdsa.PublicKey:
		if p == nil || p.Curve == nil {
			return "", fmt.Errorf("jwks: ECDSA public key without a curve: %w", errInvalidKey)
		}
		switch p.Curve {
		case elliptic.P256():
			return ES256, nil
		case elliptic.P384():
			return ES384, nil
		case elliptic.P521():
			return ES512, nil
		}
		return "", fmt.Errorf("jwks: elliptic curve %s: %w", p.Curve.Params().Name, errUnsupportedKey)
	case ed25519.PublicKey:
		return EdDSA, nil
	}
	return "", fmt.Errorf("jwks: public key of type %T: %w", pub, errUnsupportedKey)
}

// checkKey validates that pub is acceptable and fits alg.
func checkKey(pub crypto.PublicKey, alg Algorithm) error {
	if jose.Refused(string(alg)) {
		return fmt.Errorf("jwks: algorithm %q is symmetric or none; use an asymmetric algorithm such as RS256, ES256 or EdDSA: %w", alg, errAlgorithmMismatch)
	}
	info, ok := alg.info()
	if !ok {
		return fmt.Errorf("jwks: algorithm %q is not supported; use one of %s: %w", alg, strings.Join(jose.Names(), ", "), errAlgorithmMismatch)
	}
	if _, err := defaultAlgorithm(pub); err != nil {
		return err
	}
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if bits := p.N.BitLen(); bits < jose.MinRSABits {
			return fmt.Errorf("jwks: RSA key of %d bits; at least %d bits are required: %w", bits, jose.MinRSABits, errWeakKey)
		}
		if bits := p.N.BitLen(); bits > jose.MaxRSABits {
			return fmt.Errorf("jwks: RSA key of %d bits; at most %d bits are accepted: %w", bits, jose.MaxRSABits, errUnsupportedKey)
		}
		if info.Kty != "RSA" {
			return fmt.Errorf("jwks: algorithm %s does not fit an RSA key; use RS256 or PS256: %w", alg, errAlgorithmMismatch)
		}
	case *ecdsa.PublicKey:
		want, _ := defaultAlgorithm(p)
		if info.Kty != "EC" {
			return fmt.Errorf("jwks: algorithm %s does not fit an EC key on %s; use %s: %w", alg, p.Curve.Params().Name, want, errAlgorithmMismatch)
		}
		if info.Curve != p.Curve {
			return fmt.Errorf("jwks: algorithm %s needs curve %s, the key is on %s; use %s: %w", alg, info.Curve.Params().Name, p.Curve.Params().Name, want, errAlgorithmMismatch)
		}
	case ed25519.PublicKey:
		if info.Kty != "OKP" {
			return fmt.Errorf("jwks: algorithm %s does not fit an Ed25519 key; use EdDSA or Ed25519: %w", alg, errAlgorithmMismatch)
		}
	default:
		return fmt.Errorf("jwks: public key of type %T: %w", pub, errUnsupportedKey)
	}
	return nil
}
