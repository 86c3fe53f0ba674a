package jwks

import (
	"errors"
	"fmt"

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
	private                             bool // a private member is present
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
		case "d", "p", "q", "dp", "dq", "qi", "oth", "k":
			j.private = true
			return nil
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
	case "oct":
		return k, j.Kid, "symmetric (oct) key"
	case "RSA", "EC", "OKP":
	default:
		return k, j.Kid, fmt.Sprintf("kty %q is not RSA, EC or OKP", remoteShort(j.Kty))
	}
	if j.private {
		// Whoever published the private half can sign with it.
		return k, j.Kid, "publishes a private member (d, p, q, dp, dq, qi, oth or k); a published private key is never trusted"
	}
	pub, err := jose.JWKKey{Kty: j.Kty, Crv: j.Crv, X: j.X, Y: j.Y, N: j.N, E: j.E}.PublicKey()
	if err != nil {
		return k, j.Kid, err.Error()
	}
	k.Key = pub
	if k.Algorithm != "" {
		if a, _ := jose.Lookup(j.Alg); jose.CheckKey(k.Key, a) != nil {
			return k, j.Kid, fmt.Sprintf("alg %s does not fit the key", k.Algorithm)
		}
	}
	return k, j.Kid, ""
}
