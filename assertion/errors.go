package assertion

import "errors"

// Errors of configuration and minting. [NewMinter] and [NewTokenMinter]
// report every problem at once with [errors.Join]; each part wraps one of
// these, so callers can use [errors.Is]. No error ever carries an assertion, a token or key material.
var (
	// ErrNoKeySource: the key source is nil.
	ErrNoKeySource = errors.New("assertion: no key source")
	// ErrMissingClientID: Config.ClientID is empty.
	ErrMissingClientID = errors.New("assertion: missing client id")
	// ErrInvalidClientID: Config.ClientID is not valid UTF-8, holds a control
	// character or starts or ends with white space (often a stray newline from
	// an environment variable or file).
	ErrInvalidClientID = errors.New("assertion: invalid client id")
	// ErrMissingAudience: Config.Audience is empty, or a token has no audience
	// from its TokenConfig or a [WithAudience] option.
	ErrMissingAudience = errors.New("assertion: missing audience")
	// ErrInvalidAudience: the audience is not usable: for a client assertion
	// not an absolute http(s) URL (an issuer with a query or fragment, a token
	// endpoint with a fragment, user information, white space or control
	// characters); for a token an empty or malformed value.
	ErrInvalidAudience = errors.New("assertion: invalid audience")
	// ErrMissingIssuer: TokenConfig.Issuer is empty.
	ErrMissingIssuer = errors.New("assertion: missing issuer")
	// ErrInvalidIssuer: TokenConfig.Issuer is not valid UTF-8, holds a
	// control character or starts or ends with white space.
	ErrInvalidIssuer = errors.New("assertion: invalid issuer")
	// ErrInvalidSubject: a token subject (TokenConfig.Subject or
	// [WithSubject]) is empty where given, not valid UTF-8, holds a control
	// character or starts or ends with white space.
	ErrInvalidSubject = errors.New("assertion: invalid subject")
	// ErrInvalidLifetime: a lifetime is negative, zero where a value must be
	// given ([WithLifetime]), or shorter than one second.
	ErrInvalidLifetime = errors.New("assertion: invalid lifetime")
	// ErrLifetimeTooLong: a client assertion lifetime above [DefaultLifetime]
	// without Config.AllowLongLifetime, or any lifetime above [MaxLifetime].
	ErrLifetimeTooLong = errors.New("assertion: lifetime too long")
	// ErrInvalidProfile: Config.Profile is not one of the defined profiles.
	ErrInvalidProfile = errors.New("assertion: invalid profile")
	// ErrCertificate: Config.Certificate was given for a profile that does
	// not use it, is empty, or does not hold the public key of the signing
	// key.
	ErrCertificate = errors.New("assertion: unusable certificate")
	// ErrInvalidType: TokenConfig.Type is malformed, or names the client
	// assertion type, which only a [Minter] may produce (RFC 8725 §3.11).
	ErrInvalidType = errors.New("assertion: invalid token type")
	// ErrClaimCollision: a custom claim has the name of a registered claim
	// (iss, sub, aud, exp, nbf, iat, jti, in any letter case); set those
	// through TokenConfig or the With… options instead.
	ErrClaimCollision = errors.New("assertion: custom claim collides with a registered claim")
	// ErrInvalidClaims: the custom claims do not marshal to a JSON object,
	// or the object repeats a member name.
	ErrInvalidClaims = errors.New("assertion: invalid custom claims")
	// ErrInvalidOption: a [WithJTI] value is empty, not valid UTF-8, holds a
	// control character or starts or ends with white space.
	ErrInvalidOption = errors.New("assertion: invalid option")
	// ErrSign: the key's signer failed. The message carries the signer's
	// error text; context errors and jwks key errors are wrapped instead.
	ErrSign = errors.New("assertion: signing failed")
)

// Errors of an assertion [Source].
var (
	// ErrNoSource: a nil [SourceFunc] was called.
	ErrNoSource = errors.New("assertion: no assertion source")
	// ErrMalformedAssertion: an externally minted assertion (a file or a
	// [SourceFunc]) is empty or does not look like a compact JWS with an
	// asymmetric algorithm, or the file is not a regular file.
	ErrMalformedAssertion = errors.New("assertion: malformed assertion")
	// ErrAssertionTooLarge: an externally minted assertion exceeds
	// [MaxAssertionSize].
	ErrAssertionTooLarge = errors.New("assertion: assertion too large")
)
