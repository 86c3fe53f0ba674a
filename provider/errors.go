package provider

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pkjwt/pkjwt/jwks"
)

// Discovery errors. Every error [Discover] returns wraps one of these (and,
// for fetch failures, the context or net error underneath).
var (
	// ErrDiscovery: the discovery document could not be fetched (network
	// error, timeout, status other than 200, a redirect that was refused).
	ErrDiscovery = errors.New("provider: discovery failed")
	// ErrBodyTooLarge: a response exceeded its size limit. It is never
	// truncated and used.
	ErrBodyTooLarge = errors.New("provider: response body too large")
	// ErrInvalidMetadata: the discovery document is not a JSON object, or a
	// required member is missing, or a member has the wrong JSON type. The
	// message names the member.
	ErrInvalidMetadata = errors.New("provider: invalid provider metadata")
	// ErrIssuerMismatch: the document's issuer differs from the configured
	// issuer. Nothing of such a document is used (OIDC Discovery §4.3).
	ErrIssuerMismatch = errors.New("provider: issuer in discovery document does not match")
	// ErrInsecureURL: the issuer or an endpoint is not https, and not plain
	// http on a loopback host (127.0.0.0/8, ::1, localhost); or the issuer
	// has a query, a fragment or user information.
	ErrInsecureURL = errors.New("provider: URL is not https")
	// ErrPrivateKeyJWTUnsupported: the pre-flight found that the provider
	// does not list private_key_jwt, or not the client's signing algorithm.
	// The typed error is *[ClientAuthError].
	ErrPrivateKeyJWTUnsupported = errors.New("provider: provider does not support private_key_jwt with this algorithm")
)

// ClientAuthError is the typed error of the private_key_jwt pre-flight. It
// says what the provider lists, so that the message tells what to fix.
// errors.Is(err, ErrPrivateKeyJWTUnsupported) holds for it.
type ClientAuthError struct {
	// Issuer is the provider's issuer.
	Issuer string
	// Methods is token_endpoint_auth_methods_supported; nil when the
	// provider omits it (which means client_secret_basic only).
	Methods []string
	// Algorithm is the client's assertion signing algorithm, empty when only
	// the method was checked.
	Algorithm jwks.Algorithm
	// Algorithms is token_endpoint_auth_signing_alg_values_supported, nil
	// when absent.
	Algorithms []string
}

// Error says what the provider lists and what to change.
func (e *ClientAuthError) Error() string {
	if e.Algorithm == "" || !contains(e.Methods, "private_key_jwt") {
		methods := "absent (which means client_secret_basic only)"
		if e.Methods != nil {
			methods = fmt.Sprintf("%q", shortList(e.Methods))
		}
		return fmt.Sprintf("provider: %s does not list private_key_jwt in token_endpoint_auth_methods_supported (%s); register the client for private_key_jwt or set Config.InsecureSkipClientAuthCheck if the provider misreports", short(e.Issuer), methods)
	}
	return fmt.Sprintf("provider: %s does not list %s in token_endpoint_auth_signing_alg_values_supported (%q); sign assertions with one of those or set Config.InsecureSkipClientAuthCheck if the provider misreports", short(e.Issuer), e.Algorithm, shortList(e.Algorithms))
}

// Is reports whether target is ErrPrivateKeyJWTUnsupported.
func (e *ClientAuthError) Is(target error) bool { return target == ErrPrivateKeyJWTUnsupported }

// Token verification errors. Every error a verifier returns wraps exactly the
// sentinel of the first check that failed (and, for key problems, the jwks
// error underneath). No error carries the token; values read from a token
// appear quoted and shortened.
var (
	// ErrMalformedToken: not a compact JWS of three base64url segments with
	// a JSON header and JSON claims, too large, or a claim of the wrong type.
	ErrMalformedToken = errors.New("provider: malformed token")
	// ErrUnsupportedAlgorithm: the header's alg is not in the verifier's
	// allow-list ("none" and HMAC are never in it).
	ErrUnsupportedAlgorithm = errors.New("provider: token algorithm not allowed")
	// ErrUnsupportedHeader: the header carries "crit" (no extension is
	// understood), or a typ other than the expected one.
	ErrUnsupportedHeader = errors.New("provider: token header not accepted")
	// ErrInvalidSignature: no key of the provider's set verifies the
	// signature, or no key fits the header's kid and alg (then
	// jwks.ErrUnknownKey is wrapped too), or the keys could not be fetched
	// (then jwks.ErrFetch is wrapped too).
	ErrInvalidSignature = errors.New("provider: token signature invalid")
	// ErrInvalidIssuer: iss is not exactly the expected issuer.
	ErrInvalidIssuer = errors.New("provider: token issuer invalid")
	// ErrInvalidAudience: aud is missing or does not contain the expected
	// audience.
	ErrInvalidAudience = errors.New("provider: token audience invalid")
	// ErrInvalidAuthorizedParty: azp differs from the client ID, or is
	// missing while aud has several values.
	ErrInvalidAuthorizedParty = errors.New("provider: token authorized party invalid")
	// ErrMissingSubject: sub is missing or empty.
	ErrMissingSubject = errors.New("provider: token subject missing")
	// ErrTokenExpired: exp is missing or past (beyond the leeway).
	ErrTokenExpired = errors.New("provider: token expired")
	// ErrTokenNotYetValid: nbf is in the future (beyond the leeway).
	ErrTokenNotYetValid = errors.New("provider: token not yet valid")
	// ErrInvalidIssuedAt: iat is missing or in the future (beyond the
	// leeway).
	ErrInvalidIssuedAt = errors.New("provider: token issued-at invalid")
	// ErrTokenLifetime: exp − iat exceeds the verifier's maximum lifetime.
	ErrTokenLifetime = errors.New("provider: token lifetime too long")
	// ErrNonceMismatch: a nonce was expected and the token's is missing or
	// different, or the token carries a nonce that was not asked for.
	ErrNonceMismatch = errors.New("provider: token nonce mismatch")
	// ErrAccessTokenHashMismatch: at_hash is present and does not match the
	// access token that came with the ID token (OIDC Core §3.1.3.8; in the
	// code flow at_hash is optional).
	ErrAccessTokenHashMismatch = errors.New("provider: token at_hash mismatch")
	// ErrAuthTimeInvalid: max_age was requested and auth_time is missing, in
	// the future, or older than max_age.
	ErrAuthTimeInvalid = errors.New("provider: token auth_time invalid")
	// ErrACRNotSatisfied: acr values were required and the token's acr is
	// missing or not one of them.
	ErrACRNotSatisfied = errors.New("provider: token acr not satisfied")
	// ErrClaimMismatch: a claim the verifier requires is missing or has
	// another value.
	ErrClaimMismatch = errors.New("provider: required token claim missing or different")
)

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// short bounds an untrusted string for an error message.
func short(s string) string {
	const n = 64
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func shortList(l []string) string {
	if len(l) > 10 {
		l = append(l[:10:10], "…")
	}
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = short(s)
	}
	return strings.Join(out, " ")
}
