package provider

import "net/http"

// Precise causes behind the public sentinels, for the external tests.
var (
	ErrInsecureIssuerForTest         = errInsecureIssuer
	ErrInsecureEndpointForTest       = errInsecureEndpoint
	ErrIssuerMismatchForTest         = errIssuerMismatch
	ErrUnsupportedHeaderForTest      = errUnsupportedHeader
	ErrMissingSubjectForTest         = errMissingSubject
	ErrMissingIssuedAtForTest        = errMissingIssuedAt
	ErrIssuedInFutureForTest         = errIssuedInFuture
	ErrInvalidAuthorizedPartyForTest = errInvalidAuthorizedParty
)

// DefaultMaxTokenBytesForTest is the default size limit of a token.
const DefaultMaxTokenBytesForTest = defaultMaxTokenBytes

// BoundedClientForTest returns the client p reads discovery and the JWKS
// with, bodies bounded at Config.MaxBodyBytes.
func BoundedClientForTest(p *Provider) *http.Client { return p.client }
