package provider

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"math/big"
	"strings"

	"github.com/pkjwt/pkjwt/jwks"
)

// digest hashes msg with h into a fixed-size array, so that the hot path
// allocates no hash state. It returns nil for a hash it does not know.
func digest(h crypto.Hash, msg []byte, out *[64]byte) []byte {
	switch h {
	case crypto.SHA256:
		s := sha256.Sum256(msg)
		return append(out[:0], s[:]...)
	case crypto.SHA384:
		s := sha512.Sum384(msg)
		return append(out[:0], s[:]...)
	case crypto.SHA512:
		s := sha512.Sum512(msg)
		return append(out[:0], s[:]...)
	}
	return nil
}

// verifySignature checks a JWS signature (ECDSA as R||S) over input with
// pub under alg. Callers match keys with [jwks.PublicKey.Fits] first; the
// algorithm family is checked here again all the same. It is
// jwks.VerifySignature without the per-call hash allocations; a test checks
// that the two agree.
func verifySignature(pub crypto.PublicKey, alg jwks.Algorithm, input, sig []byte) bool {
	var buf [64]byte
	switch p := pub.(type) {
	case *rsa.PublicKey:
		switch alg {
		case jwks.RS256, jwks.RS384, jwks.RS512, jwks.PS256, jwks.PS384, jwks.PS512:
		default:
			return false
		}
		d := digest(alg.Hash(), input, &buf)
		if d == nil {
			return false
		}
		if strings.HasPrefix(string(alg), "PS") {
			return rsa.VerifyPSS(p, alg.Hash(), d, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
		}
		return rsa.VerifyPKCS1v15(p, alg.Hash(), d, sig) == nil
	case *ecdsa.PublicKey:
		switch {
		case alg == jwks.ES256 && p.Curve == elliptic.P256():
		case alg == jwks.ES384 && p.Curve == elliptic.P384():
		case alg == jwks.ES512 && p.Curve == elliptic.P521():
		default:
			return false
		}
		d := digest(alg.Hash(), input, &buf)
		size := (p.Curve.Params().BitSize + 7) / 8
		if d == nil || len(sig) != 2*size {
			return false
		}
		r := new(big.Int).SetBytes(sig[:size])
		s := new(big.Int).SetBytes(sig[size:])
		return ecdsa.Verify(p, d, r, s)
	case ed25519.PublicKey:
		return alg == jwks.EdDSA && len(p) == ed25519.PublicKeySize && ed25519.Verify(p, input, sig)
	}
	return false
}
