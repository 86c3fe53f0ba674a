package provider

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pkjwt/pkjwt/jwks"
)

// Configuration and discovery errors. Every error [Discover] returns wraps
// one of these (and, for fetch failures, the context or net error
// underneath).
var (
	// ErrInvalidConfig: the issuer, a [Config] (its KeySet included), a
	// [VerifierConfig], a [JWTConfig] or the key set of [NewJWTVerifier] was
	// refused: the issuer is not https (plain http only on a loopback host:
	// 127.0.0.0/8, ::1, localhost) or has a query, a fragment or user
	// information; a duration or size is out of range; a required value is
	// missing; an algorithm is not a supported asymmetric one. The message
	// names the field.
	ErrInvalidConfig = errors.New("provider: invalid config")
	// ErrDiscovery: the discovery document could not be fetched (network
	// error, timeout, status other than 200, a redirect that was refused, a
	// body longer than Config.MaxBodyBytes, which is never truncated and
	// used).
	ErrDiscovery = errors.New("provider: discovery failed")
	// ErrInvalidMetadata: the discovery document is unusable: not a JSON
	// object; its issuer differs from the configured issuer (then nothing
	// else of it is used, OIDC Discovery §4.3); a required member is
	// missing, or a member has the wrong JSON type; an endpoint is not https
	// (plain http only on a loopback host, and only when the issuer is such
	// a URL too). The message names the member.
	ErrInvalidMetadata = errors.New("provider: invalid provider metadata")
	// ErrPrivateKeyJWTUnsupported: the pre-flight found that the provider
	// does not list private_key_jwt, or not the client's signing algorithm.
	// The typed error is *[ClientAuthError].
	ErrPrivateKeyJWTUnsupported = errors.New("provider: provider does not support private_key_jwt with this algorithm")
)

// Precise causes behind the public sentinels, for this package's messages
// and tests.
var (
	errInsecureIssuer   = fmt.Errorf("%w: issuer URL not accepted", ErrInvalidConfig)
	errInsecureEndpoint = fmt.Errorf("%w: endpoint URL not accepted", ErrInvalidMetadata)
	errIssuerMismatch   = fmt.Errorf("%w: issuer differs", ErrInvalidMetadata)
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
	if other := ed25519Sibling(e.Algorithm); other != "" && contains(e.Algorithms, string(other)) {
		// RFC 9864: the same signature under the name the provider lists.
		return fmt.Sprintf("provider: %s lists %s, not %s, in token_endpoint_auth_signing_alg_values_supported: they name the same signature with an Ed25519 key (RFC 9864), but the assertion's alg and the published key's alg must be the name the provider lists; load the key with jwks.KeyConfig{Algorithm: jwks.%s}", short(e.Issuer), other, e.Algorithm, other)
	}
	return fmt.Sprintf("provider: %s does not list %s in token_endpoint_auth_signing_alg_values_supported (%q); sign assertions with one of those or set Config.InsecureSkipClientAuthCheck if the provider misreports", short(e.Issuer), e.Algorithm, shortList(e.Algorithms))
}

// ed25519Sibling returns RFC 9864's other name for EdDSA with an Ed25519
// key: Ed25519 for EdDSA and EdDSA for Ed25519; "" for any other algorithm.
func ed25519Sibling(a jwks.Algorithm) jwks.Algorithm {
	switch a {
	case jwks.EdDSA:
		return jwks.Ed25519
	case jwks.Ed25519:
		return jwks.EdDSA
	}
	return ""
}

// Is reports whether target is ErrPrivateKeyJWTUnsupported.
func (e *ClientAuthError) Is(target error) bool { return target == ErrPrivateKeyJWTUnsupported }

// Token verification errors. Every error a verifier returns wraps exactly the
// sentinel of the first check that failed (and, for key problems, the jwks
// error underneath). No error carries the token; values read from a token
// appear quoted and shortened.
var (
	// ErrMalformedToken: not a compact JWS of three base64url segments with
	// a JSON header and JSON claims, too large, a claim of the wrong type, a
	// required claim (sub of an ID token, iat) missing, or a header the
	// verifier does not accept: "crit" (no extension is understood), or a
	// typ other than the expected one.
	ErrMalformedToken = errors.New("provider: malformed token")
	// ErrUnsupportedAlgorithm: the header's alg is not in the verifier's
	// allow-list ("none" and HMAC are never in it).
	ErrUnsupportedAlgorithm = errors.New("provider: token algorithm not allowed")
	// ErrInvalidSignature: no key of the provider's set verifies the
	// signature, or no key fits the header's kid and alg (then
	// jwks.ErrUnknownKey is wrapped too), or the keys could not be fetched
	// (then jwks.ErrFetch is wrapped too).
	ErrInvalidSignature = errors.New("provider: token signature invalid")
	// ErrInvalidIssuer: iss is not exactly the expected issuer.
	ErrInvalidIssuer = errors.New("provider: token issuer invalid")
	// ErrInvalidAudience: the token was not issued to this client or
	// service: aud is missing or does not contain the expected audience; or,
	// for an ID token, azp differs from the client ID, or is missing while
	// aud has several values.
	ErrInvalidAudience = errors.New("provider: token audience invalid")
	// ErrTokenExpired: exp is missing or past (beyond the leeway).
	ErrTokenExpired = errors.New("provider: token expired")
	// ErrTokenNotYetValid: nbf or iat is in the future (beyond the leeway).
	ErrTokenNotYetValid = errors.New("provider: token not yet valid")
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
	// ErrTokenReplayed: a one-time token (a logout token) carries a jti
	// accepted before: a replay.
	ErrTokenReplayed = errors.New("provider: token replayed")
)

// Precise causes behind the public token sentinels.
var (
	errUnsupportedHeader      = fmt.Errorf("%w: header not accepted", ErrMalformedToken)
	errMissingSubject         = fmt.Errorf("%w: subject missing", ErrMalformedToken)
	errMissingIssuedAt        = fmt.Errorf("%w: issued-at missing", ErrMalformedToken)
	errIssuedInFuture         = fmt.Errorf("%w: issued in the future", ErrTokenNotYetValid)
	errInvalidAuthorizedParty = fmt.Errorf("%w: authorized party invalid", ErrInvalidAudience)
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
