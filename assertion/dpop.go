package assertion

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/pkjwt/pkjwt/internal/clock"
	"github.com/pkjwt/pkjwt/internal/jose"
	"github.com/pkjwt/pkjwt/jwks"
)

// maxNonce bounds a server nonce put into a proof.
const maxNonce = 1 << 10

// DPoPConfig configures a [DPoP] proof maker. Every field has a safe zero
// value.
type DPoPConfig struct {
	// Now is the clock of the proofs' iat; zero (nil) means time.Now.
	Now func() time.Time
}

// DPoP makes DPoP proofs (RFC 9449 §4) with one key: every call to
// [DPoP.Proof] signs a new proof with a fresh jti; nothing is cached but
// the encoded header. The header is {"alg","typ":"dpop+jwt","jwk"} with the
// key's public members only (its RFC 7638 form), never a kid.
//
// A DPoP holds the key, so keep it where the key is kept; its String form
// shows the algorithm and thumbprint only. It is safe for concurrent use.
type DPoP struct {
	key *jwks.Key
	hdr *header
	jkt string
	now func() time.Time
}

var _ fmt.Formatter = (*DPoP)(nil)

// dpopAlgorithms are the algorithms a DPoP key may have: those FAPI 2.0
// allows.
var dpopAlgorithms = [...]jwks.Algorithm{jwks.ES256, jwks.EdDSA, jwks.PS256}

// NewDPoP returns a proof maker that signs with key. The key's algorithm
// must be ES256, EdDSA or PS256 (the FAPI 2.0 set); a nil key or another
// algorithm is ErrInvalidConfig. It does no I/O.
func NewDPoP(key *jwks.Key, cfg DPoPConfig) (*DPoP, error) {
	if key == nil {
		return nil, fmt.Errorf("assertion: NewDPoP: nil key; generate one with jwks.Generate(jwks.ES256): %w: %w", ErrInvalidConfig, errNoKeySource)
	}
	alg := key.Algorithm()
	ok := false
	for _, a := range dpopAlgorithms {
		ok = ok || a == alg
	}
	if !ok {
		return nil, fmt.Errorf("assertion: NewDPoP: key %q has algorithm %q; DPoP keys must be ES256, EdDSA or PS256: %w: %w", shorten(key.KeyID()), shorten(string(alg)), ErrInvalidConfig, errDPoPAlgorithm)
	}
	size, err := signatureSize(key.Public())
	if err != nil {
		return nil, err
	}
	jwk, err := jose.ThumbprintJWK(key.Public())
	if err != nil {
		return nil, fmt.Errorf("assertion: NewDPoP: key %q: %v: %w", shorten(key.KeyID()), err, ErrInvalidConfig)
	}
	js := make([]byte, 0, 48+len(jwk))
	js = append(js, `{"alg":`...)
	js = appendJSONString(js, string(alg))
	js = append(js, `,"typ":"dpop+jwt","jwk":`...) // RFC 9449 §4.2
	js = append(js, jwk...)
	js = append(js, '}')
	return &DPoP{
		key: key,
		hdr: &header{key: key, seg: b64.AppendEncode(nil, js), sigLen: b64.EncodedLen(size)},
		jkt: jose.Thumbprint(jwk),
		now: clock.Or(cfg.Now),
	}, nil
}

// Proof mints a DPoP proof for one HTTP request: claims jti (a fresh UUID),
// htm = method, htu = target without its query and fragment, iat, nonce
// when nonce is not empty, and ath = BASE64URL(SHA-256(accessToken)) when
// accessToken is not empty (a request to a resource server, RFC 9449 §4.2).
// It does no I/O of its own; a key in a KMS signs under ctx.
//
// Errors: ErrInvalidClaims for a method that is not an HTTP token, a
// target that is not an absolute http or https URL, or a nonce that is not
// RFC 9449 NQCHAR text of at most 1 KiB; a context error, jwks.ErrInvalidKey
// or ErrSign. None contains the proof or the access token.
func (d *DPoP) Proof(ctx context.Context, method, target, nonce, accessToken string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("assertion: %w", err)
	}
	if !httpToken(method) {
		return "", fmt.Errorf("assertion: DPoP proof: method %q is not an HTTP method: %w: %w", shorten(method), ErrInvalidClaims, errDPoPRequest)
	}
	htu, err := proofTarget(target)
	if err != nil {
		return "", err
	}
	if len(nonce) > maxNonce || !nqchar(nonce) {
		return "", fmt.Errorf("assertion: DPoP proof: the server nonce is longer than %d bytes or holds characters RFC 9449 does not allow: %w: %w", maxNonce, ErrInvalidClaims, errDPoPRequest)
	}
	id, err := uuid.NewRandom()
	if err != nil {
		return "", fmt.Errorf("assertion: generate jti: %v", err)
	}
	var stack [512]byte
	c := append(stack[:0], `{"jti":"`...)
	c = appendUUID(c, id)
	c = append(c, `","htm":`...)
	c = appendJSONString(c, method)
	c = append(c, `,"htu":`...)
	c = appendJSONString(c, htu)
	c = append(c, `,"iat":`...)
	c = strconv.AppendInt(c, d.now().Unix(), 10)
	if nonce != "" {
		c = append(c, `,"nonce":"`...)
		c = append(c, nonce...) // NQCHAR: nothing to escape
		c = append(c, '"')
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		c = append(c, `,"ath":"`...)
		c = b64.AppendEncode(c, sum[:])
		c = append(c, '"')
	}
	c = append(c, '}')
	return assemble(ctx, d.key, d.hdr, c)
}

// Thumbprint returns the RFC 7638 SHA-256 thumbprint of the key (the
// dpop_jkt of an authorization request and the cnf.jkt of bound tokens).
func (d *DPoP) Thumbprint() string { return d.jkt }

// String describes the proof maker by algorithm and thumbprint only.
func (d *DPoP) String() string {
	if d == nil {
		return "assertion.DPoP(nil)"
	}
	return fmt.Sprintf("assertion.DPoP{alg: %s, jkt: %s}", d.key.Algorithm(), d.jkt)
}

// Format writes the String description for every verb, so that no verb
// reaches the key.
func (d *DPoP) Format(f fmt.State, _ rune) { fmt.Fprint(f, d.String()) }

// proofTarget returns target without query and fragment, after checking it
// is an absolute http or https URL with a host and no user information. It
// parses by hand: url.Parse would cost allocations on every proof.
func proofTarget(target string) (string, error) {
	rest, ok := strings.CutPrefix(target, "https://")
	if !ok {
		rest, ok = strings.CutPrefix(target, "http://")
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	if !ok || authority == "" || strings.ContainsAny(authority, "@ \\") || textProblem(target) != "" {
		return "", fmt.Errorf("assertion: DPoP proof: the target is not an absolute http or https URL without user information: %w: %w", ErrInvalidClaims, errDPoPRequest)
	}
	if i := strings.IndexAny(target, "?#"); i >= 0 {
		target = target[:i]
	}
	return target, nil
}

// httpToken reports whether s is a non-empty RFC 9110 token.
func httpToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// nqchar reports whether s is RFC 9449 §8.1 nonce text: %x21 / %x23-5B /
// %x5D-7E (no quote, no backslash, no space).
func nqchar(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
