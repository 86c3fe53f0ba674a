package jose

import (
	"crypto"
	"encoding/base64"
	"strconv"
	"strings"
)

// MaxHeaderBytes bounds the encoded header segment of a token.
const MaxHeaderBytes = 4 << 10

// MaxKeysTried bounds the keys a token's signature is checked against
// (a token without kid against a set of many keys).
const MaxKeysTried = 4

var b64 = base64.RawURLEncoding.Strict()

// JWS is a compact JWS (RFC 7515 §7.1) read by Parse: its header judged,
// its signature not yet checked.
type JWS struct {
	// Alg is the header's alg, one of the allow-list's entries.
	Alg *Alg
	// Kid is the header's kid, empty when absent.
	Kid string
	// Typ is the header's typ, nil when absent; it aliases Header.
	Typ []byte
	// Header is the decoded protected header, for members Parse does not
	// read (DPoP's jwk).
	Header []byte
	// Payload is the decoded payload. Its bytes are not judged: callers read
	// them with Object once the signature holds.
	Payload []byte
	// SigningInput is the header and payload segments with their dot.
	SigningInput string
	// Signature is the decoded signature.
	Signature []byte
}

// Parse reads a compact JWS in this order: size, three segments of the
// base64url alphabet, the header (one JSON object under Object's rule; alg
// required; crit never accepted; jku, x5u, jwk and x5c never used for keys),
// the algorithm against allow (compared exactly; none and HMAC in any letter
// case always refused) — before anything about the signature is looked at —
// and then the signature's length and the payload's base64url. Failures wrap
// ErrMalformed, ErrAlgorithm or ErrHeader.
func Parse(raw string, maxBytes int, allow []string) (JWS, error) {
	var t JWS
	if len(raw) > maxBytes {
		return t, malformed("token of " + strconv.Itoa(len(raw)) + " bytes exceeds " + strconv.Itoa(maxBytes))
	}
	d1, d2 := -1, -1
	for i := 0; i < len(raw); i++ {
		ch := raw[i]
		switch {
		case 'A' <= ch && ch <= 'Z', 'a' <= ch && ch <= 'z', '0' <= ch && ch <= '9', ch == '-', ch == '_':
		case ch == '.' && d1 < 0:
			d1 = i
		case ch == '.' && d2 < 0:
			d2 = i
		default:
			return t, malformed("not a compact JWS of three base64url segments")
		}
	}
	if d2 < 0 || d1 == 0 {
		return t, malformed("not a compact JWS of three segments")
	}
	if d1 > MaxHeaderBytes {
		return t, malformed("header exceeds " + strconv.Itoa(MaxHeaderBytes) + " bytes")
	}
	hb, err := b64.DecodeString(raw[:d1])
	if err != nil {
		return t, malformed("header is not base64url")
	}
	t.Header = hb
	var alg []byte
	hasAlg, crit := false, false
	err = Object(hb, func(name, val []byte) error {
		var ok bool
		switch string(name) {
		case "alg":
			alg, ok = Bytes(val)
			hasAlg = true
		case "kid":
			t.Kid, ok = String(val)
		case "typ":
			t.Typ, ok = Bytes(val)
		case "crit":
			crit, ok = true, true
		default:
			return nil
		}
		if !ok {
			return malformed("header member " + Quote(string(name)) + " is not a string")
		}
		return nil
	})
	if err != nil {
		return t, prefix("header: ", err)
	}
	if !hasAlg {
		return t, newError(ErrAlgorithm, "header has no alg")
	}
	name, err := Allowed(alg, allow)
	if err != nil {
		return t, err
	}
	t.Alg, _ = Lookup(name)
	if t.Alg == nil {
		return t, newError(ErrAlgorithm, "algorithm "+Quote(name)+" is not supported")
	}
	if crit {
		return t, newError(ErrHeader, "header has crit, which is never accepted")
	}
	sigEnc := raw[d2+1:]
	if n := b64.DecodedLen(len(sigEnc)); !sigPlausible(t.Alg, n) {
		return t, malformed("signature of " + strconv.Itoa(n) + " bytes is not plausible for " + name)
	}
	if t.Signature, err = b64.DecodeString(sigEnc); err != nil {
		return t, malformed("signature is not base64url")
	}
	if d2 == d1+1 {
		return t, malformed("payload is empty")
	}
	if t.Payload, err = b64.DecodeString(raw[d1+1 : d2]); err != nil {
		return t, malformed("payload is not base64url")
	}
	t.SigningInput = raw[:d2]
	return t, nil
}

// sigPlausible reports whether a signature of n bytes can be one of alg:
// exactly R‖S for ECDSA, 64 bytes for EdDSA, the modulus size of an
// accepted RSA key.
func sigPlausible(a *Alg, n int) bool {
	switch a.Kty {
	case "EC":
		return n == 2*a.Size
	case "OKP":
		return n == 64
	}
	return MinRSABits/8 <= n && n <= MaxRSABits/8
}

// Verify checks t's signature against the keys that fit: candidates are
// tried in order, skipping those whose own alg restriction (keyAlg, empty
// for none) differs or that do not fit t.Alg, and at most MaxKeysTried are
// tried. No fitting key is ErrNoKey; a signature that verifies with none of
// them is ErrSignature.
func Verify[K any](t *JWS, keys []K, key func(*K) (pub crypto.PublicKey, keyAlg string)) error {
	tried := 0
	input := unsafeBytes(t.SigningInput)
	for i := range keys {
		pub, keyAlg := key(&keys[i])
		if keyAlg != "" && keyAlg != t.Alg.Name {
			continue
		}
		if CheckKey(pub, t.Alg) != nil {
			continue
		}
		if tried++; tried > MaxKeysTried {
			break
		}
		if VerifySignature(pub, t.Alg, input, t.Signature) == nil {
			return nil
		}
	}
	if tried == 0 {
		return newError(ErrNoKey, "no key with kid "+Quote(t.Kid)+" fits "+t.Alg.Name)
	}
	return ErrSignature
}

// TypIs compares a typ header with want as RFC 7515 §4.1.9 media types: case
// insensitive, with an optional "application/" prefix. An empty want
// accepts an absent typ or "JWT" (an ID token, RFC 8725 §3.11).
func TypIs(got []byte, want string) bool {
	g := string(got)
	const app = "application/"
	if len(g) >= len(app) && strings.EqualFold(g[:len(app)], app) {
		g = g[len(app):]
	}
	if len(want) >= len(app) && strings.EqualFold(want[:len(app)], app) {
		want = want[len(app):]
	}
	if want == "" {
		return got == nil || strings.EqualFold(g, "JWT")
	}
	return strings.EqualFold(g, want)
}

// prefix adds context to a reader error, keeping its kind.
func prefix(p string, err error) error {
	if ke, ok := err.(*kindError); ok {
		return &kindError{kind: ke.kind, msg: p + ke.msg}
	}
	return err
}
