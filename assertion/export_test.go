package assertion

// Precise causes, for the external tests' errors.Is rows. Each error wraps
// one of them next to its public sentinel.
var (
	ErrNoKeySourceForTest       = errNoKeySource
	ErrMissingClientIDForTest   = errMissingClientID
	ErrInvalidClientIDForTest   = errInvalidClientID
	ErrMissingAudienceForTest   = errMissingAudience
	ErrInvalidAudienceForTest   = errInvalidAudience
	ErrMissingIssuerForTest     = errMissingIssuer
	ErrInvalidIssuerForTest     = errInvalidIssuer
	ErrInvalidSubjectForTest    = errInvalidSubject
	ErrInvalidLifetimeForTest   = errInvalidLifetime
	ErrLifetimeTooLongForTest   = errLifetimeTooLong
	ErrInvalidProfileForTest    = errInvalidProfile
	ErrCertificateForTest       = errCertificate
	ErrInvalidTypeForTest       = errInvalidType
	ErrClaimCollisionForTest    = errClaimCollision
	ErrMalformedClaimsForTest   = errMalformedClaims
	ErrInvalidJTIForTest        = errInvalidJTI
	ErrNoSourceForTest          = errNoSource
	ErrAssertionTooLargeForTest = errAssertionTooLarge
)

// MaxAssertionSizeForTest is the size limit of an external assertion.
const MaxAssertionSizeForTest = maxAssertionSize

// ProfileName returns the name a Minter's String and messages use for p.
func ProfileName(p Profile) string { return p.name() }
