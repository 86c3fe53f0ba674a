package jwks

// Names for the external tests (package jwks_test) of the precise causes
// behind the public sentinels, and of the defaults they exercise.
var (
	ErrMalformedSetForTest     = errMalformedSet
	ErrStaleForTest            = errStale
	ErrClosedForTest           = errClosed
	ErrMalformedJWSForTest     = errMalformedJWS
	ErrRefusedAlgorithmForTest = errRefusedAlgorithm
)

const (
	MaxRemoteAgeForTest        = maxRemoteAge
	DefaultMinIntervalForTest  = defaultMinInterval
	DefaultRefreshAfterForTest = defaultRefreshAfter
)
