package jwks

import "errors"

// Errors about keys. Every error this package returns about a key wraps one of
// these, so that callers can use [errors.Is]. No error ever carries key bytes.
var (
	// ErrNoKey: the input held no key at all (empty, no PEM block, unset
	// environment variable).
	ErrNoKey = errors.New("jwks: no key found")
	// ErrMalformedKey: the input could not be decoded (bad base64, bad DER,
	// bad JSON).
	ErrMalformedKey = errors.New("jwks: malformed key")
	// ErrEncryptedKey: the PEM is encrypted; decrypt it first
	// (openssl pkey -in key.pem -out plain.pem).
	ErrEncryptedKey = errors.New("jwks: encrypted key")
	// ErrMultipleKeys: the input held more than one key block.
	ErrMultipleKeys = errors.New("jwks: more than one key")
	// ErrNotPrivateKey: a public key or certificate was given where a private
	// key is needed.
	ErrNotPrivateKey = errors.New("jwks: not a private key")
	// ErrWeakKey: an RSA key below 2048 bits.
	ErrWeakKey = errors.New("jwks: key too weak")
	// ErrUnsupportedKey: a key type or curve this package does not use.
	ErrUnsupportedKey = errors.New("jwks: unsupported key")
	// ErrAlgorithmMismatch: the algorithm does not fit the key, or is
	// symmetric, none or unknown.
	ErrAlgorithmMismatch = errors.New("jwks: algorithm does not fit key")
	// ErrInvalidKey: the key is internally inconsistent (RSA components that
	// do not match) or failed the sign-and-verify self-test.
	ErrInvalidKey = errors.New("jwks: invalid key")
	// ErrNotExportable: the private key lives outside this process (a
	// crypto.Signer such as a KMS key) and cannot be written out.
	ErrNotExportable = errors.New("jwks: private key not exportable")
)

// Errors about a [Ring].
var (
	// ErrNoActiveKey: the ring has no key that is active now (none has
	// activated yet, or every key has retired). Add or rotate in a key.
	ErrNoActiveKey = errors.New("jwks: no active signing key")
	// ErrInvalidRing: a ring's configuration or schedule is inconsistent (a
	// negative duration, an entry without key or activation time, a
	// retirement before activation, two entries with the same key ID or the
	// same activation time, a rotation that would not take effect).
	ErrInvalidRing = errors.New("jwks: invalid key ring")
	// ErrSignature: a signature does not verify ([Remote.VerifySignature]).
	ErrSignature = errors.New("jwks: signature does not verify")
)
