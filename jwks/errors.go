package jwks

import (
	"errors"
	"fmt"
)

// Errors of this package. Every error it returns about a key or a ring wraps
// one of these (a [Remote]'s errors are listed with it), so that callers can
// use [errors.Is]. No error ever carries key bytes.
var (
	// ErrNoKey: the input held no key at all (empty, no PEM block, unset
	// environment variable, a nil signer).
	ErrNoKey = errors.New("jwks: no key found")
	// ErrInvalidConfig: a key, a ring or the settings of [NewRemote] were
	// refused. The message says why: the input does not decode, is encrypted
	// (decrypt it first: openssl pkey -in key.pem -out plain.pem), holds more
	// than one key or only a public key; an RSA key below 2048 bits or of an
	// unsupported size, type or curve; an algorithm that does not fit the key
	// or is symmetric, none or unknown; an internally inconsistent key, one
	// that failed the sign-and-verify self-test or a signer returning a
	// malformed signature; a private key held outside this process that
	// cannot be written out; an inconsistent ring configuration or schedule;
	// or a JWKS URL or RemoteConfig value out of range.
	ErrInvalidConfig = errors.New("jwks: invalid config")
	// ErrNoActiveKey: the ring has no key that is active now (none has
	// activated yet, or every key has retired). Add or rotate in a key.
	ErrNoActiveKey = errors.New("jwks: no active signing key")
	// ErrSignature: a token given to [Remote.VerifySignature] is not a
	// well-formed compact JWS, uses a refused algorithm, or its signature does
	// not verify.
	ErrSignature = errors.New("jwks: signature does not verify")
)

// The precise causes behind ErrInvalidConfig, kept apart for this package's
// tests.
var (
	errMalformedKey      = fmt.Errorf("%w: malformed key", ErrInvalidConfig)
	errEncryptedKey      = fmt.Errorf("%w: encrypted key", ErrInvalidConfig)
	errMultipleKeys      = fmt.Errorf("%w: more than one key", ErrInvalidConfig)
	errNotPrivateKey     = fmt.Errorf("%w: not a private key", ErrInvalidConfig)
	errWeakKey           = fmt.Errorf("%w: key too weak", ErrInvalidConfig)
	errUnsupportedKey    = fmt.Errorf("%w: unsupported key", ErrInvalidConfig)
	errAlgorithmMismatch = fmt.Errorf("%w: algorithm does not fit key", ErrInvalidConfig)
	errInvalidKey        = fmt.Errorf("%w: invalid key", ErrInvalidConfig)
	errNotExportable     = fmt.Errorf("%w: private key not exportable", ErrInvalidConfig)
	errInvalidRing       = fmt.Errorf("%w: invalid key ring", ErrInvalidConfig)
)

// The precise causes behind ErrSignature.
var (
	errMalformedJWS     = fmt.Errorf("%w: malformed compact JWS", ErrSignature)
	errRefusedAlgorithm = fmt.Errorf("%w: algorithm refused", ErrSignature)
)
