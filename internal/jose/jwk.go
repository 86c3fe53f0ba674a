package jose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"math/big"
	"strconv"
)

var b64enc = base64.RawURLEncoding

// ThumbprintJWK returns the RFC 7638 form of pub: a JSON object of the
// required public members only, in lexicographic order and without white
// space ({"crv","kty","x","y"} for EC, {"crv","kty","x"} for OKP,
// {"e","kty","n"} for RSA). It is a valid public JWK as it stands (the
// DPoP proof header carries it) and its SHA-256 is the key's thumbprint.
func ThumbprintJWK(pub crypto.PublicKey) ([]byte, error) {
	switch p := pub.(type) {
	case *ecdsa.PublicKey:
		raw, err := p.Bytes()
		if err != nil {
			return nil, newError(ErrKeyMismatch, "EC public key: "+err.Error())
		}
		size := (p.Curve.Params().BitSize + 7) / 8
		out := make([]byte, 0, 64+4*size)
		out = append(out, `{"crv":"`...)
		out = append(out, p.Curve.Params().Name...)
		out = append(out, `","kty":"EC","x":"`...)
		out = b64enc.AppendEncode(out, raw[1:1+size])
		out = append(out, `","y":"`...)
		out = b64enc.AppendEncode(out, raw[1+size:])
		return append(out, `"}`...), nil
	case ed25519.PublicKey:
		out := make([]byte, 0, 96)
		out = append(out, `{"crv":"Ed25519","kty":"OKP","x":"`...)
		out = b64enc.AppendEncode(out, p)
		return append(out, `"}`...), nil
	case *rsa.PublicKey:
		if p == nil || p.N == nil {
			return nil, newError(ErrKeyMismatch, "RSA public key without a modulus")
		}
		out := make([]byte, 0, 64+p.Size()*4/3)
		out = append(out, `{"e":"`...)
		out = b64enc.AppendEncode(out, big.NewInt(int64(p.E)).Bytes())
		out = append(out, `","kty":"RSA","n":"`...)
		out = b64enc.AppendEncode(out, p.N.Bytes())
		return append(out, `"}`...), nil
	}
	return nil, newError(ErrKeyMismatch, "public key of type "+typeName(pub))
}

// Thumbprint returns the RFC 7638 SHA-256 thumbprint of a ThumbprintJWK
// form, base64url without padding.
func Thumbprint(thumbprintJWK []byte) string {
	sum := sha256.Sum256(thumbprintJWK)
	return b64enc.EncodeToString(sum[:])
}

// curves are the EC curves a JWK may name.
var curves = map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()}

// JWKKey holds the key members of a public JWK (RFC 7517 §4, RFC 7518 §6,
// RFC 8037 §2) as strings read by Object; other members are the caller's.
type JWKKey struct{ Kty, Crv, X, Y, N, E string }

// PublicKey decodes the members into an *rsa.PublicKey, *ecdsa.PublicKey or
// ed25519.PublicKey: strict unpadded base64url (no byte outside the
// alphabet, no line breaks), EC on P-256, P-384 or P-521 with x and y of the
// curve's size and the point on the curve, OKP on Ed25519, RSA of
// [MinRSABits, MaxRSABits] bits with an odd modulus and an odd exponent in
// [3, 2^31). One leading zero octet on n is tolerated (some libraries emit
// it). It is the module's one decoder of JWK key material: a remote JWK
// Set's keys and a DPoP proof's jwk both go through it. Failures wrap
// ErrMalformed or ErrKeyMismatch.
func (j JWKKey) PublicKey() (crypto.PublicKey, error) {
	switch j.Kty {
	case "EC":
		c, ok := curves[j.Crv]
		if !ok {
			return nil, newError(ErrKeyMismatch, "EC curve "+Quote(j.Crv)+" is not P-256, P-384 or P-521")
		}
		size := (c.Params().BitSize + 7) / 8
		x, ok1 := decodeB64(j.X)
		y, ok2 := decodeB64(j.Y)
		if !ok1 || !ok2 || len(x) != size || len(y) != size {
			return nil, malformed("EC members x and y are missing, malformed or not of the curve's size")
		}
		pt := make([]byte, 0, 1+2*size)
		pub, err := ecdsa.ParseUncompressedPublicKey(c, append(append(append(pt, 4), x...), y...))
		if err != nil {
			return nil, newError(ErrKeyMismatch, "EC point is not on the curve")
		}
		return pub, nil
	case "OKP":
		if j.Crv != "Ed25519" {
			return nil, newError(ErrKeyMismatch, "OKP curve "+Quote(j.Crv)+" is not Ed25519")
		}
		x, ok := decodeB64(j.X)
		if !ok || len(x) != ed25519.PublicKeySize {
			return nil, malformed("Ed25519 member x is missing or malformed")
		}
		return ed25519.PublicKey(x), nil
	case "RSA":
		n, ok1 := decodeB64(j.N)
		e, ok2 := decodeB64(j.E)
		if len(n) > 0 && n[0] == 0 {
			n = n[1:]
		}
		if !ok1 || !ok2 || len(n) == 0 || n[0] == 0 || len(e) == 0 || len(e) > 4 {
			return nil, malformed("RSA members n and e are missing or malformed")
		}
		if len(n) > MaxRSABits/8 {
			return nil, newError(ErrKeyMismatch, "RSA modulus above "+strconv.Itoa(MaxRSABits)+" bits")
		}
		var ev int64
		for _, b := range e {
			ev = ev<<8 | int64(b)
		}
		if ev < 3 || ev%2 == 0 || ev > 1<<31-1 {
			return nil, newError(ErrKeyMismatch, "RSA exponent is not an odd number in [3, 2^31)")
		}
		k := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(ev)}
		if bits := k.N.BitLen(); bits < MinRSABits || bits > MaxRSABits {
			return nil, newError(ErrKeyMismatch, "RSA key of "+strconv.Itoa(bits)+" bits is outside 2048 to 8192 bits")
		}
		if k.N.Bit(0) == 0 {
			return nil, newError(ErrKeyMismatch, "RSA modulus is even")
		}
		return k, nil
	}
	return nil, newError(ErrKeyMismatch, "kty "+Quote(j.Kty)+" is not EC, OKP or RSA")
}

// decodeB64 decodes unpadded base64url, refusing any byte outside the
// alphabet (the standard decoder skips line breaks).
func decodeB64(s string) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return nil, false
		}
	}
	b, err := b64.DecodeString(s)
	return b, err == nil
}

// ParsePublicJWK reads a public JWK (a DPoP proof's jwk header member) with
// Object's rules and returns its key and its RFC 7638 form. Only kty, crv,
// x, y, n and e are read; a private member (d, p, q, dp, dq, qi, oth, k) is
// refused; the key material is decoded by [JWKKey.PublicKey]. Failures wrap
// ErrMalformed or ErrKeyMismatch.
func ParsePublicJWK(data []byte) (crypto.PublicKey, []byte, error) {
	var j JWKKey
	err := Object(data, func(name, val []byte) error {
		var dst *string
		switch string(name) {
		case "kty":
			dst = &j.Kty
		case "crv":
			dst = &j.Crv
		case "x":
			dst = &j.X
		case "y":
			dst = &j.Y
		case "n":
			dst = &j.N
		case "e":
			dst = &j.E
		case "d", "p", "q", "dp", "dq", "qi", "oth", "k":
			return malformed("JWK holds private member " + strconv.Quote(string(name)))
		default:
			return nil
		}
		s, ok := String(val)
		if !ok {
			return malformed("JWK member " + strconv.Quote(string(name)) + " is not a string")
		}
		*dst = s
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	pub, err := j.PublicKey()
	if err != nil {
		return nil, nil, prefix("JWK ", err)
	}
	tj, err := ThumbprintJWK(pub)
	if err != nil {
		return nil, nil, err
	}
	return pub, tj, nil
}
