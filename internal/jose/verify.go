package jose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"strconv"

	"github.com/pkjwt/pkjwt/internal/digest"
)

// Limits on RSA verification keys, in bits of the modulus.
const (
	// MinRSABits is the smallest RSA key accepted (RFC 7518 §3.3).
	MinRSABits = 2048
	// MaxRSABits is the largest RSA key accepted for verification; it
	// bounds the cost of a signature check.
	MaxRSABits = 8192
)

// CheckKey reports whether pub may verify (or make) a signature with alg:
// the key type, curve and size fit. A misfit wraps ErrKeyMismatch.
func CheckKey(pub crypto.PublicKey, alg *Alg) error {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if p == nil || p.N == nil {
			return newError(ErrKeyMismatch, "RSA public key without a modulus")
		}
		if alg.Kty != "RSA" {
			return newError(ErrKeyMismatch, alg.Name+" does not fit an RSA key")
		}
		if bits := p.N.BitLen(); bits < MinRSABits || bits > MaxRSABits {
			return newError(ErrKeyMismatch, "RSA key of "+strconv.Itoa(bits)+" bits is outside 2048 to 8192 bits")
		}
	case *ecdsa.PublicKey:
		if p == nil || p.Curve == nil {
			return newError(ErrKeyMismatch, "EC public key without a curve")
		}
		if alg.Kty != "EC" || alg.Curve != p.Curve {
			return newError(ErrKeyMismatch, alg.Name+" does not fit an EC key on "+p.Curve.Params().Name)
		}
	case ed25519.PublicKey:
		if alg.Kty != "OKP" || len(p) != ed25519.PublicKeySize {
			return newError(ErrKeyMismatch, alg.Name+" does not fit an Ed25519 key")
		}
	default:
		return newError(ErrKeyMismatch, "unsupported public key type")
	}
	return nil
}

// VerifySignature checks a JWS signature (ECDSA in R‖S form, RFC 7518
// §3.4) over signingInput with pub under alg. A key that does not fit alg
// wraps ErrKeyMismatch; a signature that does not verify is ErrSignature.
// It allocates no hash state.
func VerifySignature(pub crypto.PublicKey, alg *Alg, signingInput, sig []byte) error {
	if err := CheckKey(pub, alg); err != nil {
		return err
	}
	var buf [64]byte
	hashed := digest.Sum(alg.Hash, signingInput, &buf)
	ok := false
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if alg.PSS {
			ok = rsa.VerifyPSS(p, alg.Hash, hashed, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
		} else {
			ok = rsa.VerifyPKCS1v15(p, alg.Hash, hashed, sig) == nil
		}
	case *ecdsa.PublicKey:
		if len(sig) == 2*alg.Size {
			var der [2*66 + 9]byte
			ok = ecdsa.VerifyASN1(p, hashed, rsToDER(der[:0], sig[:alg.Size], sig[alg.Size:]))
		}
	case ed25519.PublicKey:
		ok = ed25519.Verify(p, signingInput, sig)
	}
	if !ok {
		return ErrSignature
	}
	return nil
}

// rsToDER appends the ASN.1 DER form of an ECDSA signature (a SEQUENCE of
// two INTEGERs) given the big-endian R and S.
func rsToDER(out, r, s []byte) []byte {
	r, s = trimInt(r), trimInt(s)
	lr, ls := intLen(r), intLen(s)
	body := 2 + lr + 2 + ls
	if lr >= 0x80 || ls >= 0x80 {
		// Never for the curves of JOSE (at most 67 bytes an integer).
		return nil
	}
	out = append(out, 0x30)
	if body >= 0x80 {
		out = append(out, 0x81)
	}
	out = append(out, byte(body))
	out = appendInt(out, r)
	return appendInt(out, s)
}

func trimInt(b []byte) []byte {
	for len(b) > 1 && b[0] == 0 {
		b = b[1:]
	}
	return b
}

func intLen(b []byte) int {
	if b[0]&0x80 != 0 {
		return len(b) + 1
	}
	return len(b)
}

func appendInt(out, b []byte) []byte {
	out = append(out, 0x02, byte(intLen(b)))
	if b[0]&0x80 != 0 {
		out = append(out, 0)
	}
	return append(out, b...)
}

// DERToRS turns an ASN.1 DER ECDSA signature, as crypto.Signer returns it,
// into the fixed-size R‖S form of JWS (RFC 7518 §3.4), appended to out. size
// is the byte length of R and of S for the curve. It refuses anything but
// one SEQUENCE of two positive INTEGERs that fit size bytes.
func DERToRS(out, der []byte, size int) ([]byte, bool) {
	if len(der) < 2 || der[0] != 0x30 {
		return nil, false
	}
	body, rest, ok := derLength(der[1:])
	if !ok || len(rest) != 0 {
		return nil, false
	}
	r, body, ok := derInt(body)
	if !ok {
		return nil, false
	}
	s, body, ok := derInt(body)
	if !ok || len(body) != 0 || len(r) > size || len(s) > size {
		return nil, false
	}
	n := len(out)
	out = append(out, make([]byte, 2*size)...)
	copy(out[n+size-len(r):], r)
	copy(out[n+2*size-len(s):], s)
	return out, true
}

// derLength reads a DER length and returns the content of that length and
// what follows it.
func derLength(b []byte) (content, rest []byte, ok bool) {
	if len(b) == 0 {
		return nil, nil, false
	}
	n := int(b[0])
	b = b[1:]
	switch {
	case n < 0x80:
	case n == 0x81:
		if len(b) == 0 || b[0] < 0x80 {
			return nil, nil, false
		}
		n, b = int(b[0]), b[1:]
	default:
		return nil, nil, false
	}
	if n > len(b) {
		return nil, nil, false
	}
	return b[:n], b[n:], true
}

// derInt reads a positive DER INTEGER in minimal form and returns its value
// without a leading zero.
func derInt(b []byte) (v, rest []byte, ok bool) {
	if len(b) == 0 || b[0] != 0x02 {
		return nil, nil, false
	}
	v, rest, ok = derLength(b[1:])
	if !ok || len(v) == 0 || v[0]&0x80 != 0 || (len(v) == 1 && v[0] == 0) {
		return nil, nil, false // empty, negative or zero
	}
	if len(v) > 1 && v[0] == 0 {
		if v[1]&0x80 == 0 {
			return nil, nil, false // not minimal
		}
		v = v[1:]
	}
	return v, rest, true
}
