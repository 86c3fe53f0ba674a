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

// ParsePublicJWK reads a public JWK (a DPoP proof's jwk header member) with
// Object's rules and returns its key and its RFC 7638 form. Only kty, crv,
// x, y, n, e and the informational kid, alg, use, key_ops are read; a
// private member (d, p, q, dp, dq, qi, oth, k) is refused, as are unknown
// key types and curves, points off the curve and RSA keys outside
// [MinRSABits, MaxRSABits]. Failures wrap ErrMalformed or ErrKeyMismatch.
func ParsePublicJWK(data []byte) (crypto.PublicKey, []byte, error) {
	var kty, crv, x, y, n, e []byte
	err := Object(data, func(name, val []byte) error {
		var dst *[]byte
		switch string(name) {
		case "kty":
			dst = &kty
		case "crv":
			dst = &crv
		case "x":
			dst = &x
		case "y":
			dst = &y
		case "n":
			dst = &n
		case "e":
			dst = &e
		case "d", "p", "q", "dp", "dq", "qi", "oth", "k":
			return malformed("JWK holds private member " + strconv.Quote(string(name)))
		default:
			return nil
		}
		s, ok := String(val)
		if !ok {
			return malformed("JWK member " + strconv.Quote(string(name)) + " is not a string")
		}
		*dst = []byte(s)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	dec := func(v []byte) ([]byte, bool) {
		out, err := b64.DecodeString(string(v))
		return out, err == nil && len(out) > 0
	}
	var pub crypto.PublicKey
	switch string(kty) {
	case "EC":
		c, ok := curves[string(crv)]
		if !ok {
			return nil, nil, newError(ErrKeyMismatch, "JWK curve "+Quote(string(crv))+" is not P-256, P-384 or P-521")
		}
		size := (c.Params().BitSize + 7) / 8
		xb, ok1 := dec(x)
		yb, ok2 := dec(y)
		if !ok1 || !ok2 || len(xb) != size || len(yb) != size {
			return nil, nil, malformed("JWK EC members x and y are missing, malformed or not of the curve's size")
		}
		pt := append(append([]byte{4}, xb...), yb...)
		var err error
		pub, err = ecdsa.ParseUncompressedPublicKey(c, pt)
		if err != nil {
			return nil, nil, newError(ErrKeyMismatch, "JWK EC point is not on the curve")
		}
	case "OKP":
		xb, ok := dec(x)
		if string(crv) != "Ed25519" || !ok || len(xb) != ed25519.PublicKeySize {
			return nil, nil, newError(ErrKeyMismatch, "JWK OKP key is not a 32-byte Ed25519 key")
		}
		pub = ed25519.PublicKey(xb)
	case "RSA":
		nb, ok1 := dec(n)
		eb, ok2 := dec(e)
		if !ok1 || !ok2 || len(eb) > 4 || nb[0] == 0 || eb[0] == 0 {
			return nil, nil, malformed("JWK RSA members n and e are missing or malformed")
		}
		var ev int64
		for _, b := range eb {
			ev = ev<<8 | int64(b)
		}
		k := &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(ev)}
		if bits := k.N.BitLen(); bits < MinRSABits || bits > MaxRSABits || ev < 3 || ev%2 == 0 || ev > 1<<31-1 || k.N.Bit(0) == 0 {
			return nil, nil, newError(ErrKeyMismatch, "JWK RSA key of "+strconv.Itoa(bits)+" bits or its exponent is not accepted")
		}
		pub = k
	default:
		return nil, nil, newError(ErrKeyMismatch, "JWK kty "+Quote(string(kty))+" is not EC, OKP or RSA")
	}
	tj, err := ThumbprintJWK(pub)
	if err != nil {
		return nil, nil, err
	}
	return pub, tj, nil
}
