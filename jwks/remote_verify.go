package jwks

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// Bounds of Remote.VerifySignature.
const (
	// remoteMaxJWSBytes bounds a token given to Remote.VerifySignature.
	remoteMaxJWSBytes = 64 << 10
	// remoteMaxKeysTried bounds the keys tried for one token that has no kid.
	remoteMaxKeysTried = 4
)

// remoteJWSHeader holds the protected header members VerifySignature reads.
// jku, x5u, jwk and x5c are never read: keys come only from the set.
type remoteJWSHeader struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Crit json.RawMessage `json:"crit"`
}

// VerifySignature verifies the signature of a compact JWS with the keys of
// the remote set and returns its decoded payload, as go-oidc's oidc.KeySet
// requires. The key is chosen by the header's kid (a refetch may happen, see
// [Remote]) and must fit the header's alg; without kid, at most four keys
// that fit are tried. "none" and HMAC algorithms are refused, as is any
// "crit" header; jku, x5u, jwk and x5c are ignored. It verifies the
// signature only: claims (iss, aud, exp…) are the caller's to check.
//
// Errors wrap ErrMalformedJWS, ErrAlgorithmMismatch, ErrSignature and those
// of [Remote.Keys].
func (r *Remote) VerifySignature(ctx context.Context, jws string) ([]byte, error) {
	if len(jws) > remoteMaxJWSBytes {
		return nil, fmt.Errorf("jwks: token of %d bytes exceeds %d: %w", len(jws), remoteMaxJWSBytes, ErrMalformedJWS)
	}
	h, p, ok := strings.Cut(jws, ".")
	if !ok {
		return nil, fmt.Errorf("jwks: token is not compact serialization: %w", ErrMalformedJWS)
	}
	p, s, ok := strings.Cut(p, ".")
	if !ok || strings.Contains(s, ".") {
		return nil, fmt.Errorf("jwks: token does not have three segments: %w", ErrMalformedJWS)
	}
	hb, ok1 := decodeRemoteB64(h)
	pb, ok2 := decodeRemoteB64(p)
	sig, ok3 := decodeRemoteB64(s)
	if !ok1 || !ok2 || !ok3 {
		return nil, fmt.Errorf("jwks: token segment is not base64url: %w", ErrMalformedJWS)
	}
	var hdr remoteJWSHeader
	if err := json.Unmarshal(hb, &hdr); err != nil {
		return nil, fmt.Errorf("jwks: token header is not a JSON object: %w", ErrMalformedJWS)
	}
	if hdr.Crit != nil {
		return nil, fmt.Errorf("jwks: token header has \"crit\", which is not supported: %w", ErrMalformedJWS)
	}
	alg := Algorithm(hdr.Alg)
	if IsSymmetricOrNone(hdr.Alg) || !alg.Supported() {
		return nil, fmt.Errorf("jwks: token algorithm %q refused: %w", remoteShort(hdr.Alg), ErrAlgorithmMismatch)
	}
	keys, err := r.Keys(ctx, hdr.Kid)
	if err != nil {
		return nil, err
	}
	input := []byte(jws[:len(h)+1+len(p)])
	tried := 0
	for _, k := range keys {
		if !k.Fits(alg) {
			continue
		}
		if tried++; tried > remoteMaxKeysTried {
			break
		}
		if VerifySignature(k.Key, alg, input, sig) == nil {
			return pb, nil
		}
	}
	if tried == 0 {
		return nil, fmt.Errorf("jwks: no key with key ID %q fits algorithm %s: %w", remoteShort(hdr.Kid), alg, ErrUnknownKey)
	}
	return nil, ErrSignature
}
