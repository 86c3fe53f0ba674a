package provider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pkjwt/pkjwt/jwks"
)

// KeySet yields the verification keys of a token issuer: the keys with a key
// ID, or every key when the ID is empty. *jwks.Remote implements it.
type KeySet interface {
	Keys(ctx context.Context, kid string) ([]jwks.PublicKey, error)
}

var _ KeySet = (*jwks.Remote)(nil)

const (
	// DefaultMaxTokenBytes is the default size limit of a token.
	DefaultMaxTokenBytes = 32 << 10
	// DefaultLeeway is the default clock skew allowed on exp, nbf, iat and
	// auth_time.
	DefaultLeeway = time.Minute
	// MaxLeeway bounds a configured leeway.
	MaxLeeway = 5 * time.Minute
	// maxHeaderBytes bounds the encoded header segment.
	maxHeaderBytes = 4 << 10
	// maxKeysTried bounds the keys tried for a token without kid.
	maxKeysTried = 4
)

var b64 = base64.RawURLEncoding.Strict()

// jwsHeader is the tiny struct the protected header is decoded into. jku,
// x5u, jwk and x5c are never read: keys come from the issuer's set only.
type jwsHeader struct {
	Alg, Typ []byte // alias the decoded header
	Kid      string
	Crit     bool // "crit" is present
}

// jwsCore is the verification path shared by the ID-token and JWT
// verifiers: structure and size checks, header, algorithm allow-list, key
// selection and signature. It never decodes the claims.
type jwsCore struct {
	keys     KeySet
	algs     []jwks.Algorithm
	maxBytes int
	// typ is the expected typ; checkTyp false accepts any.
	typ      string
	checkTyp bool
}

// verify checks raw and returns its verified, decoded payload and its
// algorithm.
func (c *jwsCore) verify(ctx context.Context, raw string) ([]byte, jwks.Algorithm, error) {
	if len(raw) > c.maxBytes {
		return nil, "", fmt.Errorf("provider: token of %d bytes exceeds %d: %w", len(raw), c.maxBytes, ErrMalformedToken)
	}
	// One pass: the alphabet of compact serialization and the two dots.
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
			return nil, "", fmt.Errorf("provider: token is not a compact JWS of three base64url segments: %w", ErrMalformedToken)
		}
	}
	if d2 < 0 || d1 == 0 || d2 == d1+1 || d2 == len(raw)-1 {
		return nil, "", fmt.Errorf("provider: token is not a compact JWS of three non-empty segments: %w", ErrMalformedToken)
	}
	if d1 > maxHeaderBytes {
		return nil, "", fmt.Errorf("provider: token header exceeds %d bytes: %w", maxHeaderBytes, ErrMalformedToken)
	}
	hb, err := b64.DecodeString(raw[:d1])
	if err != nil {
		return nil, "", fmt.Errorf("provider: token header is not base64url: %w", ErrMalformedToken)
	}
	var h jwsHeader
	if err := decodeHeader(hb, &h); err != nil {
		return nil, "", err
	}
	if h.Crit {
		return nil, "", fmt.Errorf("provider: token header has crit, which is never accepted: %w", ErrUnsupportedHeader)
	}
	alg, err := c.allowed(h.Alg)
	if err != nil {
		return nil, "", err
	}
	if c.checkTyp && !typEqual(h.Typ, c.typ) {
		return nil, "", fmt.Errorf("provider: token typ %q, expected %q: %w", short(string(h.Typ)), c.typ, ErrUnsupportedHeader)
	}
	sigEnc := raw[d2+1:]
	if n := b64.DecodedLen(len(sigEnc)); n > 1024 || n < 64 {
		return nil, "", fmt.Errorf("provider: token signature of %d bytes is not plausible for %s: %w", n, alg, ErrMalformedToken)
	}
	sig, err := b64.DecodeString(sigEnc)
	if err != nil {
		return nil, "", fmt.Errorf("provider: token signature is not base64url: %w", ErrMalformedToken)
	}
	payload, err := b64.DecodeString(raw[d1+1 : d2])
	if err != nil {
		return nil, "", fmt.Errorf("provider: token payload is not base64url: %w", ErrMalformedToken)
	}
	keys, err := c.keys.Keys(ctx, h.Kid)
	if err != nil {
		return nil, "", fmt.Errorf("provider: keys for kid %q: %w: %w", short(h.Kid), ErrInvalidSignature, err)
	}
	input := []byte(raw[:d2])
	tried := 0
	for _, k := range keys {
		if !k.Fits(alg) {
			continue
		}
		if tried++; tried > maxKeysTried {
			break
		}
		if jwks.VerifySignature(k.Key, alg, input, sig) == nil {
			return payload, alg, nil
		}
	}
	if tried == 0 {
		return nil, "", fmt.Errorf("provider: no key with kid %q fits %s: %w: %w", short(h.Kid), alg, ErrInvalidSignature, jwks.ErrUnknownKey)
	}
	return nil, "", fmt.Errorf("provider: token signature does not verify: %w: %w", ErrInvalidSignature, jwks.ErrSignature)
}

// allowed maps the header's alg to an allowed algorithm.
func (c *jwsCore) allowed(name []byte) (jwks.Algorithm, error) {
	for _, a := range c.algs {
		if string(a) == string(name) {
			// The allow-list holds only supported asymmetric algorithms
			// (filterAlgs), compared exactly.
			return a, nil
		}
	}
	if jwks.IsSymmetricOrNone(string(name)) {
		return "", fmt.Errorf("provider: token algorithm %q is none or HMAC, never accepted: %w", short(string(name)), ErrUnsupportedAlgorithm)
	}
	return "", fmt.Errorf("provider: token algorithm %q is not in the allow-list %v: %w", short(string(name)), c.algs, ErrUnsupportedAlgorithm)
}

// typEqual compares typ values as RFC 7515 §4.1.9 media types: case
// insensitive, with an optional "application/" prefix. An empty expected
// value accepts an absent typ or "JWT".
func typEqual(got []byte, want string) bool {
	g := string(got) // compared, never kept: no allocation
	const app = "application/"
	if len(g) >= len(app) && strings.EqualFold(g[:len(app)], app) {
		g = g[len(app):]
	}
	if len(want) >= len(app) && strings.EqualFold(want[:len(app)], app) {
		want = want[len(app):]
	}
	if want == "" {
		return len(got) == 0 || strings.EqualFold(g, "jwt")
	}
	return strings.EqualFold(g, want)
}

// filterAlgs returns the allow-list: want (RS256 when empty) ∩ listed (all
// when nil) ∩ the supported asymmetric algorithms.
func filterAlgs(want []jwks.Algorithm, listed []string) ([]jwks.Algorithm, error) {
	if len(want) == 0 {
		want = []jwks.Algorithm{jwks.RS256}
	}
	var out []jwks.Algorithm
	var errs []error
	for _, a := range want {
		if jwks.IsSymmetricOrNone(string(a)) || !a.Supported() {
			errs = append(errs, fmt.Errorf("provider: algorithm %q is not a supported asymmetric algorithm: %w", short(string(a)), ErrUnsupportedAlgorithm))
			continue
		}
		if listed != nil && !contains(listed, string(a)) {
			continue
		}
		if !containsAlg(out, a) {
			out = append(out, a)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("provider: none of the algorithms %v is listed by the provider (%q): %w", want, shortList(listed), ErrUnsupportedAlgorithm)
	}
	return out, nil
}

func containsAlg(l []jwks.Algorithm, a jwks.Algorithm) bool {
	for _, v := range l {
		if v == a {
			return true
		}
	}
	return false
}

// decodeClaims decodes payload into v, refusing anything but one JSON
// object.
func decodeClaims(payload []byte, v any) error {
	p := trimJSONSpace(payload)
	if len(p) == 0 || p[0] != '{' {
		return fmt.Errorf("provider: token claims are not a JSON object: %w", ErrMalformedToken)
	}
	if err := json.Unmarshal(p, v); err != nil {
		return fmt.Errorf("provider: token claims do not decode: %s: %w", claimTypeError(err), ErrMalformedToken)
	}
	return nil
}

// claimTypeError names the claim of a type error without its value.
func claimTypeError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("claim %q is a JSON %s", short(te.Field), te.Value)
	}
	return "invalid JSON"
}
