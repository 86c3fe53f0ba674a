package jwks

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"

	"github.com/pkjwt/pkjwt/internal/digest"
)

// ErrSignature is returned when a signature does not verify.
var ErrSignature = errors.New("jwks: signature does not verify")

func asn1Unmarshal(der []byte, v any) ([]byte, error) { return asn1.Unmarshal(der, v) }

// VerifySignature checks a JWS signature (ECDSA in R||S form) over
// signingInput with pub under alg. alg must be supported and fit pub;
// otherwise it returns an error wrapping ErrAlgorithmMismatch. The key must be
// one this package accepts: an RSA key below MinRSABits wraps ErrWeakKey,
// above MaxRSABits or on another curve ErrUnsupportedKey. A signature that
// does not verify is ErrSignature. It does no I/O.
func VerifySignature(pub crypto.PublicKey, alg Algorithm, signingInput, sig []byte) error {
	info, ok := algs[alg]
	if !ok {
		return fmt.Errorf("jwks: algorithm %q: %w", alg, ErrAlgorithmMismatch)
	}
	if _, err := defaultAlgorithm(pub); err != nil {
		return err
	}
	var buf [64]byte
	hashed := digest.Sum(info.hash, signingInput, &buf)
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if info.kty != "RSA" {
			return fmt.Errorf("jwks: algorithm %s with an RSA key: %w", alg, ErrAlgorithmMismatch)
		}
		if bits := p.N.BitLen(); bits < MinRSABits {
			return fmt.Errorf("jwks: RSA key of %d bits; at least %d bits are required: %w", bits, MinRSABits, ErrWeakKey)
		} else if bits > MaxRSABits {
			return fmt.Errorf("jwks: RSA key of %d bits; at most %d bits are accepted: %w", bits, MaxRSABits, ErrUnsupportedKey)
		}
		var err error
		if info.pss {
			err = rsa.VerifyPSS(p, info.hash, hashed, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		} else {
			err = rsa.VerifyPKCS1v15(p, info.hash, hashed, sig)
		}
		if err != nil {
			return ErrSignature
		}
	case *ecdsa.PublicKey:
		if info.kty != "EC" || p.Curve != info.curve {
			return fmt.Errorf("jwks: algorithm %s with an EC key: %w", alg, ErrAlgorithmMismatch)
		}
		if len(sig) != 2*info.size {
			return ErrSignature
		}
		r := new(big.Int).SetBytes(sig[:info.size])
		s := new(big.Int).SetBytes(sig[info.size:])
		if !ecdsa.Verify(p, hashed, r, s) {
			return ErrSignature
		}
	case ed25519.PublicKey:
		if info.kty != "OKP" {
			return fmt.Errorf("jwks: algorithm %s with an Ed25519 key: %w", alg, ErrAlgorithmMismatch)
		}
		if len(p) != ed25519.PublicKeySize || !ed25519.Verify(p, signingInput, sig) {
			return ErrSignature
		}
	default:
		return fmt.Errorf("jwks: public key of type %T: %w", pub, ErrUnsupportedKey)
	}
	return nil
}
