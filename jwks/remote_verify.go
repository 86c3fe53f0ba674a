package jwks

import (
	"context"
	"crypto"
	"errors"
	"fmt"

	"github.com/pkjwt/pkjwt/internal/jose"
)

// remoteMaxJWSBytes bounds a token given to Remote.VerifySignature.
const remoteMaxJWSBytes = 64 << 10

// VerifySignature verifies the signature of a compact JWS with the keys of
// the remote set and returns its decoded payload, as go-oidc's oidc.KeySet
// requires. It reads the token with the module's one JOSE reader: the
// algorithm is judged first ("none" and HMAC in any letter case refused, a
// supported asymmetric algorithm required), header member names are exact
// and never repeated, "crit" is refused, and jku, x5u, jwk and x5c are
// ignored. The key is chosen by the header's kid (a refetch may happen, see
// [Remote]) and must fit the header's alg; at most four keys that fit are
// tried. It verifies the signature only: claims (iss, aud, exp…) are the
// caller's to check.
//
// Errors wrap ErrSignature (a malformed token, a refused algorithm, a
// signature that does not verify), ErrUnknownKey (no key fits) and those of
// [Remote.Keys].
func (r *Remote) VerifySignature(ctx context.Context, jws string) ([]byte, error) {
	t, err := jose.Parse(jws, remoteMaxJWSBytes, jose.Names())
	if err != nil {
		if errors.Is(err, jose.ErrAlgorithm) {
			return nil, fmt.Errorf("jwks: token %v: %w", err, errRefusedAlgorithm)
		}
		return nil, fmt.Errorf("jwks: token %v: %w", err, errMalformedJWS)
	}
	keys, err := r.Keys(ctx, t.Kid)
	if err != nil {
		return nil, err
	}
	if err := jose.Verify(&t, keys, remotePublicKey); err != nil {
		if errors.Is(err, jose.ErrNoKey) {
			return nil, fmt.Errorf("jwks: %v: %w", err, ErrUnknownKey)
		}
		return nil, ErrSignature
	}
	return t.Payload, nil
}

func remotePublicKey(k *PublicKey) (crypto.PublicKey, string) { return k.Key, string(k.Algorithm) }
