package assertion

import "errors"

// Errors of configuration and minting. [NewMinter] and [NewTokenMinter]
// report every problem at once with [errors.Join]; each part wraps one of
// these, so callers can use [errors.Is], and its message says which field or
// option is wrong and how. No error ever carries an assertion, a token or key
// material.
var (
	// ErrInvalidConfig: [NewMinter] or [NewTokenMinter] refused its
	// configuration (no key source, a missing or malformed client ID,
	// issuer, subject or audience, an undefined profile, a lifetime out of
	// range, a refused token type, an unusable certificate), or a nil
	// [SourceFunc] was called. [Minter.Assertion] also returns it when a new
	// signing key does not match Config.Certificate.
	ErrInvalidConfig = errors.New("assertion: invalid config")
	// ErrInvalidClaims: one call to [TokenMinter.Mint] was refused: the
	// custom claims do not marshal to a JSON object, repeat a member name,
	// or name a registered claim (iss, sub, aud, exp, nbf, iat, jti, in any
	// letter case; set those through TokenConfig or the With… options), the
	// token would have no audience, or a [WithSubject], [WithAudience],
	// [WithLifetime] or [WithJTI] value is invalid.
	ErrInvalidClaims = errors.New("assertion: invalid claims")
	// ErrSign: the key's signer failed. The message carries the signer's
	// error text; context errors and jwks key errors are wrapped instead.
	ErrSign = errors.New("assertion: signing failed")
)

// Errors of an assertion [Source].
var (
	// ErrMalformedAssertion: an externally minted assertion (a file or a
	// [SourceFunc]) is empty, larger than 16 KiB, or does not look like a
	// compact JWS with an asymmetric algorithm, or the file is not a regular
	// file.
	ErrMalformedAssertion = errors.New("assertion: malformed assertion")
)

// Precise causes. Each error returned wraps one of the public sentinels above
// and one of these ("assertion: invalid config: missing client id"), so that
// the tests can tell the causes apart; callers act on the public sentinel.
var (
	errNoKeySource       = errors.New("no key source")
	errMissingClientID   = errors.New("missing client id")
	errInvalidClientID   = errors.New("invalid client id")
	errMissingAudience   = errors.New("missing audience")
	errInvalidAudience   = errors.New("invalid audience")
	errMissingIssuer     = errors.New("missing issuer")
	errInvalidIssuer     = errors.New("invalid issuer")
	errInvalidSubject    = errors.New("invalid subject")
	errInvalidLifetime   = errors.New("invalid lifetime")
	errLifetimeTooLong   = errors.New("lifetime too long")
	errInvalidProfile    = errors.New("invalid profile")
	errCertificate       = errors.New("unusable certificate")
	errInvalidType       = errors.New("invalid token type")
	errClaimCollision    = errors.New("custom claim collides with a registered claim")
	errMalformedClaims   = errors.New("custom claims are not one JSON object")
	errInvalidJTI        = errors.New("invalid jti")
	errNoSource          = errors.New("no assertion source")
	errAssertionTooLarge = errors.New("assertion too large")
	errDPoPAlgorithm     = errors.New("algorithm not allowed for DPoP")
	errDPoPRequest       = errors.New("invalid DPoP request")
)
