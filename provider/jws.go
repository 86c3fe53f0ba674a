package provider

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/pkjwt/pkjwt/internal/jose"
	"github.com/pkjwt/pkjwt/jwks"
)

// KeySet yields the verification keys of a token issuer: the keys with a key
// ID, or every key when the ID is empty. *jwks.Remote implements it.
type KeySet interface {
	Keys(ctx context.Context, kid string) ([]jwks.PublicKey, error)
}

var _ KeySet = (*jwks.Remote)(nil)

const (
	// defaultMaxTokenBytes is the default size limit of a token.
	defaultMaxTokenBytes = 32 << 10
	// defaultLeeway is the default clock skew allowed on exp, nbf, iat and
	// auth_time.
	defaultLeeway = time.Minute
	// maxLeeway bounds a configured leeway.
	maxLeeway = 5 * time.Minute
)

// jwsCore is the verification path shared by the ID-token and JWT
// verifiers, on the module's one JOSE reader (internal/jose): structure and
// size, header, algorithm allow-list (judged before the signature), typ,
// key selection and signature. It never decodes the claims.
type jwsCore struct {
	keys     KeySet
	algs     []string
	maxBytes int
	// typ is the expected typ; "" accepts an absent typ or "JWT".
	typ string
	// typOptional accepts an absent typ besides typ.
	typOptional bool
}

// verify checks raw and returns its verified, decoded payload and its
// algorithm.
func (c *jwsCore) verify(ctx context.Context, raw string) ([]byte, *jose.Alg, error) {
	t, err := jose.Parse(raw, c.maxBytes, c.algs)
	if err != nil {
		return nil, nil, tokenError(err)
	}
	if !jose.TypIs(t.Typ, c.typ) && !(c.typOptional && t.Typ == nil) {
		want := c.typ
		if want == "" {
			want = "JWT or none"
		}
		return nil, nil, fmt.Errorf("provider: token typ %q, expected %s: %w", short(string(t.Typ)), want, errUnsupportedHeader)
	}
	keys, err := c.keys.Keys(ctx, t.Kid)
	if err != nil {
		return nil, nil, fmt.Errorf("provider: keys for kid %q: %w: %w", short(t.Kid), ErrInvalidSignature, err)
	}
	if err := jose.Verify(&t, keys, publicKey); err != nil {
		if errors.Is(err, jose.ErrNoKey) {
			return nil, nil, fmt.Errorf("provider: %v: %w: %w", err, ErrInvalidSignature, jwks.ErrUnknownKey)
		}
		return nil, nil, fmt.Errorf("provider: token signature does not verify: %w", ErrInvalidSignature)
	}
	return t.Payload, t.Alg, nil
}

func publicKey(k *jwks.PublicKey) (crypto.PublicKey, string) { return k.Key, string(k.Algorithm) }

// tokenError maps an error of the JOSE reader to this package's sentinels.
func tokenError(err error) error {
	switch {
	case errors.Is(err, jose.ErrAlgorithm):
		return fmt.Errorf("provider: token %v: %w", err, ErrUnsupportedAlgorithm)
	case errors.Is(err, jose.ErrHeader):
		return fmt.Errorf("provider: token %v: %w", err, errUnsupportedHeader)
	}
	return fmt.Errorf("provider: token %v: %w", err, ErrMalformedToken)
}

// filterAlgs returns the allow-list: want (RS256 when empty) ∩ listed (all
// when nil) ∩ the supported asymmetric algorithms. An unsupported algorithm
// in want is ErrInvalidConfig and ErrUnsupportedAlgorithm; an empty
// intersection is ErrUnsupportedAlgorithm.
func filterAlgs(want []jwks.Algorithm, listed []string) ([]string, error) {
	if len(want) == 0 {
		want = []jwks.Algorithm{jwks.RS256}
	}
	var out []string
	var errs []error
	for _, a := range want {
		if _, ok := jose.Lookup(string(a)); !ok || jose.Refused(string(a)) {
			errs = append(errs, fmt.Errorf("provider: algorithm %q is not a supported asymmetric algorithm: %w: %w", short(string(a)), ErrInvalidConfig, ErrUnsupportedAlgorithm))
			continue
		}
		if listed != nil && !slices.Contains(listed, string(a)) {
			continue
		}
		if !slices.Contains(out, string(a)) {
			out = append(out, string(a))
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

// decodeClaims decodes payload into v through the JOSE reader: one JSON
// object, no repeated member, names matched case-sensitively.
func decodeClaims(payload []byte, v any) error {
	if err := jose.Unmarshal(payload, v); err != nil {
		return fmt.Errorf("provider: token claims: %v: %w", err, ErrMalformedToken)
	}
	return nil
}
