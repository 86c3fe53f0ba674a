package jwks

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"

	"github.com/pkjwt/pkjwt/internal/jose"
)

// remoteSkipped records why a key of a remote set was not used.
type remoteSkipped struct{ kid, reason string }

// remoteJWK holds the members of a public JWK this package reads. Private
// members (d, p, q, dp, dq, qi, oth, k) are never read.
type remoteJWK struct {
	Kty, Kid, Use, Alg, Crv, N, E, X, Y string
	KeyOps                              []string
	hasKeyOps                           bool
}

// readRemoteJWK reads one JWK object through the module's JOSE reader:
// member names exact, a repeated member malformed, the members read here
// strings (key_ops an array of strings).
func readRemoteJWK(m []byte) (remoteJWK, bool) {
	var j remoteJWK
	err := jose.Object(m, func(name, val []byte) error {
		var dst *string
		switch string(name) {
		case "kty":
			dst = &j.Kty
		case "kid":
			dst = &j.Kid
		case "use":
			dst = &j.Use
		case "alg":
			dst = &j.Alg
		case "crv":
			dst = &j.Crv
		case "n":
			dst = &j.N
		case "e":
			dst = &j.E
		case "x":
			dst = &j.X
		case "y":
			dst = &j.Y
		case "key_ops":
			l, ok := jose.Strings(val)
			if !ok {
				return errNotJWK
			}
			j.KeyOps, j.hasKeyOps = l, true
			return nil
		default:
			return nil
		}
		s, ok := jose.String(val)
		if !ok {
			return errNotJWK
		}
		*dst = s
		return nil
	})
	return j, err == nil
}

var errNotJWK = errors.New("not a JWK")

// parseRemoteSet parses a JWK Set document through the module's JOSE
// reader. A document that is not one JSON object with a "keys" array (a
// repeated member name anywhere makes it malformed), or holds more than
// maxKeys keys, is errMalformedSet; each key is then parsed on its own and
// skipped (with a reason) when unusable.
func parseRemoteSet(body []byte, maxKeys int) ([]PublicKey, []remoteSkipped, error) {
	var keysVal []byte
	err := jose.Object(body, func(name, val []byte) error {
		if string(name) == "keys" {
			keysVal = val
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("jwks: the document is not a JWK set object: %v: %w", err, errMalformedSet)
	}
	if len(keysVal) == 0 || keysVal[0] != '[' {
		return nil, nil, fmt.Errorf("jwks: the document has no \"keys\" array: %w", errMalformedSet)
	}
	raw, _ := jose.Elements(keysVal)
	if len(raw) > maxKeys {
		return nil, nil, fmt.Errorf("jwks: the set holds %d keys, more than the limit of %d: %w", len(raw), maxKeys, errMalformedSet)
	}
	var keys []PublicKey
	var skipped []remoteSkipped
	for _, m := range raw {
		k, kid, reason := parsePublicJWK(m)
		if reason != "" {
			skipped = append(skipped, remoteSkipped{kid: remoteShort(kid), reason: reason})
			continue
		}
		keys = append(keys, k)
	}
	return keys, skipped, nil
}

var remoteB64 = base64.RawURLEncoding.Strict()

// decodeRemoteB64 decodes unpadded base64url, refusing any byte outside the
// alphabet (the standard decoder skips line breaks).
func decodeRemoteB64(s string) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		if !isRemoteB64(s[i]) {
			return nil, false
		}
	}
	b, err := remoteB64.DecodeString(s)
	return b, err == nil
}

func isRemoteB64(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

var remoteCurves = map[string]struct {
	curve elliptic.Curve
	size  int
}{
	"P-256": {elliptic.P256(), 32},
	"P-384": {elliptic.P384(), 48},
	"P-521": {elliptic.P521(), 66},
}

// parsePublicJWK parses one public JWK. It returns a non-empty reason when
// the key is unusable.
func parsePublicJWK(m []byte) (PublicKey, string, string) {
	j, ok := readRemoteJWK(m)
	if !ok {
		return PublicKey{}, "", "not a JWK object with string members"
	}
	k := PublicKey{KeyID: j.Kid, Use: j.Use, Algorithm: Algorithm(j.Alg)}
	if j.Use != "" && j.Use != "sig" {
		return k, j.Kid, fmt.Sprintf("use %q is not \"sig\"", remoteShort(j.Use))
	}
	if j.hasKeyOps {
		verify := false
		for _, op := range j.KeyOps {
			verify = verify || op == "verify"
		}
		if !verify {
			return k, j.Kid, "key_ops does not include \"verify\""
		}
	}
	if _, ok := jose.Lookup(j.Alg); j.Alg != "" && (jose.Refused(j.Alg) || !ok) {
		return k, j.Kid, fmt.Sprintf("alg %q is not a supported asymmetric algorithm", remoteShort(j.Alg))
	}
	switch j.Kty {
	case "RSA":
		n, ok1 := decodeRemoteB64(j.N)
		e, ok2 := decodeRemoteB64(j.E)
		if !ok1 || !ok2 || len(n) == 0 || len(e) == 0 || len(e) > 4 {
			return k, j.Kid, "RSA members n and e are missing or malformed"
		}
		if len(n) > jose.MaxRSABits/8+1 {
			return k, j.Kid, "RSA modulus above 8192 bits"
		}
		var ev int64
		for _, b := range e {
			ev = ev<<8 | int64(b)
		}
		if ev < 3 || ev%2 == 0 || ev > 1<<31-1 {
			return k, j.Kid, "RSA exponent is not an odd number in [3, 2^31)"
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(ev)}
		if pub.N.BitLen() < jose.MinRSABits {
			return k, j.Kid, fmt.Sprintf("RSA key of %d bits, below %d", pub.N.BitLen(), jose.MinRSABits)
		}
		if pub.N.BitLen() > jose.MaxRSABits {
			return k, j.Kid, fmt.Sprintf("RSA key of %d bits, above %d", pub.N.BitLen(), jose.MaxRSABits)
		}
		if pub.N.Bit(0) == 0 {
			return k, j.Kid, "RSA modulus is even"
		}
		k.Key = pub
	case "EC":
		c, ok := remoteCurves[j.Crv]
		if !ok {
			return k, j.Kid, fmt.Sprintf("EC curve %q is not P-256, P-384 or P-521", remoteShort(j.Crv))
		}
		x, ok1 := decodeRemoteB64(j.X)
		y, ok2 := decodeRemoteB64(j.Y)
		if !ok1 || !ok2 || len(x) != c.size || len(y) != c.size {
			return k, j.Kid, "EC members x and y are missing, malformed or not of the curve's size"
		}
		pt := make([]byte, 0, 1+2*c.size)
		pt = append(append(append(pt, 4), x...), y...)
		pub, err := ecdsa.ParseUncompressedPublicKey(c.curve, pt)
		if err != nil {
			return k, j.Kid, "EC point is not on the curve"
		}
		k.Key = pub
	case "OKP":
		if j.Crv != "Ed25519" {
			return k, j.Kid, fmt.Sprintf("OKP curve %q is not Ed25519", remoteShort(j.Crv))
		}
		x, ok := decodeRemoteB64(j.X)
		if !ok || len(x) != ed25519.PublicKeySize {
			return k, j.Kid, "Ed25519 member x is missing or malformed"
		}
		k.Key = ed25519.PublicKey(x)
	case "oct":
		return k, j.Kid, "symmetric (oct) key"
	default:
		return k, j.Kid, fmt.Sprintf("kty %q is not RSA, EC or OKP", remoteShort(j.Kty))
	}
	if k.Algorithm != "" {
		if a, _ := jose.Lookup(j.Alg); jose.CheckKey(k.Key, a) != nil {
			return k, j.Kid, fmt.Sprintf("alg %s does not fit the key", k.Algorithm)
		}
	}
	return k, j.Kid, ""
}
