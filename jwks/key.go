package jwks

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"

	"github.com/pkjwt/pkjwt/internal/digest"
	"github.com/pkjwt/pkjwt/internal/jose"
)

// Key is a private signing key with its algorithm and key ID. The private
// part never leaves it: formatting, logging and JSON marshalling show only the
// key ID and algorithm.
//
// A Key is immutable and safe for concurrent use. The zero Key is not
// usable: obtain Keys from [NewKey], the Parse and Load functions or
// [Generate].
type Key struct {
	// signer is behind a pointer so that formatting a Key value (not a
	// pointer, which has no Format method) prints an address, never key
	// material: fmt prints nested pointers as addresses.
	signer     *signerBox
	pub        crypto.PublicKey
	alg        Algorithm
	kid        string
	opts       crypto.SignerOpts
	ecSize     int  // ES*: bytes of R and of S
	exportable bool // the private key is in this process (parsed or generated)
	jwk        []byte
}

// signerBox holds the private key or external signer.
type signerBox struct{ s crypto.Signer }

// KeyConfig holds the optional settings for loading or wrapping a key.
type KeyConfig struct {
	// Algorithm is the JWS algorithm the key signs with. Zero derives it from
	// the key: RS256 for RSA, ES256/ES384/ES512 for P-256/P-384/P-521, EdDSA
	// for Ed25519 (give Ed25519 for RFC 9864's name of the same signature).
	// A value that does not fit the key is ErrInvalidConfig.
	Algorithm Algorithm
	// KeyID is the "kid" published and put in token headers. Zero uses the
	// RFC 7638 JWK thumbprint (base64url of SHA-256), which every replica
	// computes alike.
	KeyID string
}

// ContextSigner is a [crypto.Signer] whose signing may do I/O, such as a key
// held in a cloud KMS or a network HSM. When a Key wraps one, [Key.Sign] calls
// SignContext with the caller's context instead of Sign.
type ContextSigner interface {
	crypto.Signer
	SignContext(ctx context.Context, digest []byte, opts crypto.SignerOpts) ([]byte, error)
}

// KeySource yields the key to sign with now. *[Key] (always itself) and
// *[Ring] (the active key of its schedule) implement it.
type KeySource interface {
	SigningKey() (*Key, error)
}

var (
	_ KeySource      = (*Key)(nil)
	_ fmt.Formatter  = (*Key)(nil)
	_ slog.LogValuer = (*Key)(nil)
)

// NewKey wraps any crypto.Signer — an in-memory key or one held in a KMS or
// HSM — as a signing Key. It checks the public key and the algorithm, then
// signs and verifies a probe (a self-test), so a misconfigured signer fails
// here rather than at the first token. The probe goes through ctx when s is a
// [ContextSigner]; that is the only I/O NewKey may do.
//
// An in-memory *rsa.PrivateKey, *ecdsa.PrivateKey or ed25519.PrivateKey is
// copied (RSA keys are validated and precomputed once, on the copy), so the
// caller's key is neither modified nor shared. Other signers are used as
// they are and are not exportable ([Key.PrivatePEM]).
//
// Errors wrap ErrNoKey (nil signer), ErrInvalidConfig (an unsupported key
// type or curve, an RSA key below 2048 or above 4096 bits, an algorithm that
// does not fit the key, inconsistent components, a failed self-test), or
// ctx's error when ctx ended during the self-test.
func NewKey(ctx context.Context, s crypto.Signer, cfg KeyConfig) (*Key, error) {
	if s == nil {
		return nil, fmt.Errorf("jwks: nil signer: %w", ErrNoKey)
	}
	exportable := false
	switch p := s.(type) {
	case *rsa.PrivateKey:
		cp, err := copyRSA(p)
		if err != nil {
			return nil, err
		}
		s, exportable = cp, true
	case *ecdsa.PrivateKey:
		cp, err := copyECDSA(p)
		if err != nil {
			return nil, err
		}
		s, exportable = cp, true
	case ed25519.PrivateKey:
		if len(p) != ed25519.PrivateKeySize {
			return nil, fmt.Errorf("jwks: Ed25519 private key of %d bytes, want %d: %w", len(p), ed25519.PrivateKeySize, errInvalidKey)
		}
		s, exportable = append(ed25519.PrivateKey(nil), p...), true
	case *ed25519.PrivateKey:
		if p == nil || len(*p) != ed25519.PrivateKeySize {
			return nil, fmt.Errorf("jwks: Ed25519 private key of the wrong size: %w", errInvalidKey)
		}
		s, exportable = append(ed25519.PrivateKey(nil), (*p)...), true
	}
	return newKey(ctx, s, cfg, exportable)
}

// maxSigningRSABits is the largest RSA key accepted for signing, in bits of
// the modulus. Verifiers such as go-jose (and with it go-oidc, many providers
// and providertest) refuse RSA keys above 4096 bits, so a larger signing key
// would load and then have every token refused. [NewKey], the Parse and Load
// functions and [GenerateRSA] refuse larger keys with ErrInvalidConfig.
// Verification ([Remote], package provider) accepts keys up to 8192 bits.
const maxSigningRSABits = 4096

// checkSigningRSABits refuses an RSA signing key of bits below 2048
// (errWeakKey) or above maxSigningRSABits (errUnsupportedKey), saying why;
// both wrap ErrInvalidConfig.
func checkSigningRSABits(bits int) error {
	switch {
	case bits < jose.MinRSABits:
		return fmt.Errorf("jwks: RSA key of %d bits; at least %d bits are required: %w", bits, jose.MinRSABits, errWeakKey)
	case bits > maxSigningRSABits:
		return fmt.Errorf("jwks: RSA key of %d bits; a signing key may have at most %d bits, because verifiers such as go-jose refuse larger RSA keys (use 2048, 3072 or 4096): %w", bits, maxSigningRSABits, errUnsupportedKey)
	}
	return nil
}

// copyRSA checks an in-memory RSA key, then returns a private, precomputed
// copy, so that neither a later change by the caller nor a concurrent use of
// the caller's key affects the Key.
func copyRSA(p *rsa.PrivateKey) (*rsa.PrivateKey, error) {
	if p == nil || p.N == nil || p.D == nil {
		return nil, fmt.Errorf("jwks: RSA private key is missing components: %w", errInvalidKey)
	}
	if err := checkSigningRSABits(p.N.BitLen()); err != nil {
		return nil, err
	}
	if len(p.Primes) != 2 {
		return nil, fmt.Errorf("jwks: RSA key with %d primes; only two-prime keys are accepted: %w", len(p.Primes), errUnsupportedKey)
	}
	cp := &rsa.PrivateKey{
		PublicKey: rsa.PublicKey{N: new(big.Int).Set(p.N), E: p.E},
		D:         new(big.Int).Set(p.D),
	}
	for _, q := range p.Primes {
		if q == nil {
			return nil, fmt.Errorf("jwks: RSA private key is missing a prime: %w", errInvalidKey)
		}
		cp.Primes = append(cp.Primes, new(big.Int).Set(q))
	}
	// Precompute once here: an RSA key that is not precomputed signs 1.2-1.7x
	// slower. Validate then checks the components against each other.
	cp.Precompute()
	if err := cp.Validate(); err != nil {
		return nil, fmt.Errorf("jwks: RSA key components are inconsistent: %w", errInvalidKey)
	}
	return cp, nil
}

// copyECDSA returns a private copy of an in-memory ECDSA key, rebuilt from
// its scalar, after checking that the curve is one this package uses and that
// the public point belongs to the scalar.
func copyECDSA(p *ecdsa.PrivateKey) (*ecdsa.PrivateKey, error) {
	// D is only compared with nil, never read or changed: PrivateKey.Bytes,
	// the replacement for D, panics on a key without a scalar.
	//lint:ignore SA1019 the nil check guards the call to PrivateKey.Bytes
	if p == nil || p.Curve == nil || p.D == nil || p.X == nil || p.Y == nil {
		return nil, fmt.Errorf("jwks: ECDSA private key is missing components: %w", errInvalidKey)
	}
	if _, err := defaultAlgorithm(&p.PublicKey); err != nil {
		return nil, err
	}
	raw, err := p.Bytes()
	if err != nil {
		return nil, fmt.Errorf("jwks: ECDSA private key is inconsistent: %w", errInvalidKey)
	}
	cp, err := ecdsa.ParseRawPrivateKey(p.Curve, raw)
	clear(raw)
	if err != nil || cp.X.Cmp(p.X) != 0 || cp.Y.Cmp(p.Y) != 0 {
		return nil, fmt.Errorf("jwks: ECDSA private key is inconsistent: %w", errInvalidKey)
	}
	return cp, nil
}

func newKey(ctx context.Context, s crypto.Signer, cfg KeyConfig, exportable bool) (*Key, error) {
	pub := s.Public()
	switch pp := pub.(type) {
	case *ed25519.PublicKey:
		if pp == nil {
			return nil, fmt.Errorf("jwks: signer has a nil public key: %w", errInvalidKey)
		}
		pub = *pp
	case nil:
		return nil, fmt.Errorf("jwks: signer has no public key: %w", errInvalidKey)
	}
	alg := cfg.Algorithm
	if alg == "" {
		var err error
		if alg, err = defaultAlgorithm(pub); err != nil {
			return nil, err
		}
	}
	if p, ok := pub.(*rsa.PublicKey); ok && p != nil && p.N != nil {
		// checkKey allows the sizes a verifier accepts; a signing key must
		// be one that verifiers accept.
		if err := checkSigningRSABits(p.N.BitLen()); err != nil {
			return nil, err
		}
	}
	if err := checkKey(pub, alg); err != nil {
		return nil, err
	}
	info, _ := alg.info()
	k := &Key{signer: &signerBox{s}, pub: pub, alg: alg, exportable: exportable, ecSize: info.Size}
	switch {
	case info.PSS:
		k.opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: info.Hash}
	case info.Kty == "OKP":
		k.opts = crypto.Hash(0)
	default:
		k.opts = info.Hash
	}
	tp, err := thumbprint(pub)
	if err != nil {
		return nil, err
	}
	k.kid = cfg.KeyID
	if k.kid == "" {
		k.kid = tp
	}
	k.jwk, err = marshalPublicJWK(pub, k.kid, alg)
	if err != nil {
		return nil, err
	}
	// Self-test: a signer that cannot produce a signature its own public key
	// verifies is refused now.
	probe := []byte("pkjwt self-test probe")
	sig, err := k.Sign(ctx, probe)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("jwks: self-test signature for key %q: %w", shortLabel(k.kid), ctxErr)
		}
		return nil, fmt.Errorf("jwks: self-test signature for key %q failed (%v): %w", shortLabel(k.kid), err, errInvalidKey)
	}
	if info, _ := alg.info(); jose.VerifySignature(pub, info, probe, sig) != nil {
		return nil, fmt.Errorf("jwks: self-test signature does not verify with the public key: %w", errInvalidKey)
	}
	return k, nil
}

// SigningKey returns k itself, so that a single Key serves as a [KeySource].
func (k *Key) SigningKey() (*Key, error) { return k, nil }

// KeyID returns the key's "kid".
func (k *Key) KeyID() string { return k.kid }

// Algorithm returns the JWS algorithm the key signs with.
func (k *Key) Algorithm() Algorithm { return k.alg }

// Public returns the public half: *rsa.PublicKey, *ecdsa.PublicKey or
// ed25519.PublicKey.
func (k *Key) Public() crypto.PublicKey { return k.pub }

// PublicJWKJSON returns the public JWK as JSON (RFC 7517 §4): kty, kid, use
// "sig", alg and the public members only, as a [Set] publishes it. The slice
// is a copy.
func (k *Key) PublicJWKJSON() []byte { return append([]byte(nil), k.jwk...) }

// Sign returns the JWS signature (RFC 7515 §5.1) over signingInput, the ASCII
// "BASE64URL(header).BASE64URL(payload)". It hashes the input with the
// algorithm's hash, signs, and for ECDSA converts the signer's ASN.1 DER
// output to the fixed-length R||S form of RFC 7518 §3.4. RSA-PSS uses a salt
// as long as the hash. ctx is passed to a [ContextSigner] and checked before
// signing otherwise. Errors wrap ctx's error or the signer's own error (for
// a KMS key, its client's error), or ErrInvalidConfig when the signer returns a
// malformed ECDSA signature. Sign is safe for concurrent use.
func (k *Key) Sign(ctx context.Context, signingInput []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("jwks: sign with key %q: %w", shortLabel(k.kid), err)
	}
	msg := signingInput
	if h := k.opts.HashFunc(); h != 0 {
		var buf [64]byte
		msg = digest.Sum(h, signingInput, &buf)
	}
	var sig []byte
	var err error
	if cs, ok := k.signer.s.(ContextSigner); ok {
		sig, err = cs.SignContext(ctx, msg, k.opts)
	} else {
		sig, err = k.signer.s.Sign(rand.Reader, msg, k.opts)
	}
	if err != nil {
		// The signer's own error (a KMS error, a context error) is wrapped
		// so that callers can inspect it; it carries no key material.
		return nil, fmt.Errorf("jwks: sign with key %q: %w", shortLabel(k.kid), err)
	}
	if k.ecSize > 0 {
		return derToRS(sig, k.ecSize)
	}
	return sig, nil
}

// derToRS converts an ASN.1 DER ECDSA signature to R||S of size bytes each,
// with a small bounds-checked parser (one allocation, no big.Int).
func derToRS(der []byte, size int) ([]byte, error) {
	out, ok := jose.DERToRS(make([]byte, 0, 2*size), der, size)
	if !ok {
		return nil, fmt.Errorf("jwks: signer returned a malformed or oversized ECDSA signature: %w", errInvalidKey)
	}
	return out, nil
}

// PrivatePEM returns the private key as a PKCS#8 "PRIVATE KEY" PEM block, for
// tools that create keys (see examples/keygen). It fails with
// ErrInvalidConfig for a key wrapped from an external crypto.Signer. The
// result is secret: never log it.
func (k *Key) PrivatePEM() ([]byte, error) {
	if !k.exportable {
		return nil, fmt.Errorf("jwks: key %q is held by an external signer: %w", shortLabel(k.kid), errNotExportable)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k.signer.s)
	if err != nil {
		return nil, fmt.Errorf("jwks: key %q: %v: %w", shortLabel(k.kid), err, errNotExportable)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// PublicPEM returns the public key as a PKIX "PUBLIC KEY" PEM block.
func (k *Key) PublicPEM() []byte {
	der, err := x509.MarshalPKIXPublicKey(k.pub)
	if err != nil {
		// Every public key type a Key can hold marshals.
		panic("jwks: marshal public key: " + err.Error())
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// String returns a redacted description: the key ID and algorithm only.
func (k *Key) String() string {
	if k == nil {
		return "jwks.Key(nil)"
	}
	return fmt.Sprintf("jwks.Key{kid: %q, alg: %s}", k.kid, k.alg)
}

// GoString returns the same redacted description as String.
func (k *Key) GoString() string { return k.String() }

// Format writes the redacted description for every verb, so that %v, %+v,
// %#v and %s never reach the private key.
func (k *Key) Format(f fmt.State, _ rune) { fmt.Fprint(f, k.String()) }

// LogValue returns the key ID and algorithm only.
func (k *Key) LogValue() slog.Value {
	if k == nil {
		return slog.StringValue("<nil>")
	}
	return slog.GroupValue(slog.String("kid", k.kid), slog.String("alg", string(k.alg)))
}
