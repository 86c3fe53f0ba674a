package assertion

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/pkjwt/pkjwt/internal/jose"
	"github.com/pkjwt/pkjwt/jwks"
)

var b64 = base64.RawURLEncoding

// header is the encoded JOSE header for one key, computed once per key.
type header struct {
	key    *jwks.Key
	seg    []byte // BASE64URL(UTF8(JWS Protected Header))
	sigLen int    // length of the base64url-encoded signature
}

// headerCache remembers the encoded header of the key signed with last. A
// [jwks.KeySource] such as a ring hands out one key at a time and changes it
// rarely, so one entry suffices; a miss costs one small JSON encoding.
type headerCache struct {
	typ     string
	x5t     string           // x5t#S256 value; empty for none
	certPub crypto.PublicKey // the certificate's public key, when x5t is set
	last    atomic.Pointer[header]
}

// setCertificate records cert's SHA-256 thumbprint and public key, so that
// later changes to the caller's certificate have no effect.
func (c *headerCache) setCertificate(cert *x509.Certificate) {
	sum := sha256.Sum256(cert.Raw)
	c.x5t = b64.EncodeToString(sum[:])
	c.certPub = cert.PublicKey
}

// get returns the header for key.
func (c *headerCache) get(key *jwks.Key) (*header, error) {
	if h := c.last.Load(); h != nil && h.key == key {
		return h, nil
	}
	h, err := c.build(key)
	if err != nil {
		return nil, err
	}
	c.last.Store(h)
	return h, nil
}

// build encodes the header {"alg","kid","typ"[,"x5t#S256"]} for key. Nothing
// else ever goes into a header: no jku, x5u, jwk, x5c or crit.
func (c *headerCache) build(key *jwks.Key) (*header, error) {
	alg := key.Algorithm()
	if _, ok := jose.Lookup(string(alg)); !ok {
		return nil, fmt.Errorf("assertion: key %q has algorithm %q: %w", shorten(key.KeyID()), shorten(string(alg)), jwks.ErrInvalidConfig)
	}
	size, err := signatureSize(key.Public())
	if err != nil {
		return nil, err
	}
	js := make([]byte, 0, 128)
	js = append(js, `{"alg":`...)
	js = appendJSONString(js, string(alg))
	if kid := key.KeyID(); kid != "" {
		js = append(js, `,"kid":`...)
		js = appendJSONString(js, kid)
	}
	js = append(js, `,"typ":`...)
	js = appendJSONString(js, c.typ)
	if c.x5t != "" {
		if err := certificateMatches(c.certPub, key); err != nil {
			return nil, err
		}
		js = append(js, `,"x5t#S256":`...)
		js = appendJSONString(js, c.x5t)
	}
	js = append(js, '}')
	return &header{key: key, seg: b64.AppendEncode(nil, js), sigLen: b64.EncodedLen(size)}, nil
}

// signatureSize returns the length in bytes of a JWS signature by pub.
func signatureSize(pub crypto.PublicKey) (int, error) {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		return p.Size(), nil
	case *ecdsa.PublicKey:
		return 2 * ((p.Curve.Params().BitSize + 7) / 8), nil
	case ed25519.PublicKey:
		return ed25519.SignatureSize, nil
	}
	return 0, fmt.Errorf("assertion: public key of type %T: %w", pub, jwks.ErrInvalidConfig)
}

// certificateMatches checks that cert holds the public key of key, so that an
// x5t#S256 header never points at another key's certificate.
func certificateMatches(certPub crypto.PublicKey, key *jwks.Key) error {
	pub, ok := certPub.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(key.Public()) {
		return fmt.Errorf("assertion: the certificate does not hold the public key of signing key %q; give the certificate of that key: %w: %w", shorten(key.KeyID()), ErrInvalidConfig, errCertificate)
	}
	return nil
}

// signingKey asks keys for the key to sign with now.
func signingKey(keys jwks.KeySource) (*jwks.Key, error) {
	key, err := keys.SigningKey()
	if err != nil {
		return nil, fmt.Errorf("assertion: signing key: %w", err)
	}
	if key == nil {
		return nil, fmt.Errorf("assertion: the key source returned no key: %w", jwks.ErrNoKey)
	}
	return key, nil
}

// assemble builds the compact JWS BASE64URL(header).BASE64URL(claims).BASE64URL(sig)
// in one buffer sized up front and signs it with key.
func assemble(ctx context.Context, key *jwks.Key, h *header, claims []byte) (string, error) {
	n := len(h.seg) + 1 + b64.EncodedLen(len(claims))
	buf := make([]byte, 0, n+1+h.sigLen)
	buf = append(buf, h.seg...)
	buf = append(buf, '.')
	buf = b64.AppendEncode(buf, claims)
	sig, err := key.Sign(ctx, buf)
	if err != nil {
		return "", signError(ctx, key, err)
	}
	buf = append(buf, '.')
	buf = b64.AppendEncode(buf, sig)
	return string(buf), nil
}

// signError wraps a failure of key.Sign: context errors and jwks sentinels
// with %w, anything else (a KMS error, say) as text under ErrSign.
func signError(ctx context.Context, key *jwks.Key, err error) error {
	kid := shorten(key.KeyID())
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("assertion: sign with key %q: %w", kid, cerr)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, jwks.ErrInvalidConfig) {
		return fmt.Errorf("assertion: sign with key %q: %w", kid, err)
	}
	return fmt.Errorf("assertion: sign with key %q: %v: %w", kid, err, ErrSign)
}
