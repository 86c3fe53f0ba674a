package providertest

import (
	"net/http"
	"time"

	"github.com/pkjwt/pkjwt/jwks"
)

// AudiencePolicy says which aud a client assertion must carry.
type AudiencePolicy int

const (
	// AudienceIssuer (the zero value) requires the server's issuer
	// identifier, exactly as Server.Issuer returns it, as the sole
	// audience, as a JSON string (RFC 10070); an array, even of one
	// string, is refused, as oidc-provider's strict mode does.
	AudienceIssuer AudiencePolicy = iota
	// AudienceTokenEndpoint requires the token endpoint URL as the sole
	// audience: the legacy practice of RFC 7523 §3 some servers keep.
	AudienceTokenEndpoint
	// AudienceIssuerOrTokenEndpoint accepts either of the two, still as the
	// sole audience; an array holding both is refused.
	AudienceIssuerOrTokenEndpoint
)

// TokenFormat says what access and refresh tokens look like.
type TokenFormat int

const (
	// TokenOpaque (the zero value) issues random opaque strings.
	TokenOpaque TokenFormat = iota
	// TokenJWT issues access tokens as JWTs (RFC 9068: typ at+jwt, iss, sub,
	// aud, exp, iat, jti, client_id, scope) signed like ID tokens, and
	// refresh tokens as JWTs too (typ rt+jwt). The server still remembers
	// every token, so revocation works for both formats.
	TokenJWT
)

// User is the end user the authorization endpoint approves without asking
// anyone.
type User struct {
	// Subject is the sub claim. Zero means "248289761001".
	Subject string
	// Claims are added to ID tokens and to the userinfo response, such as
	// "email" or "name". Registered claims (iss, sub, aud, exp, iat, nbf,
	// jti, auth_time, nonce, at_hash, c_hash, sid, azp) are ignored in ID
	// tokens. Zero adds none.
	Claims map[string]any
}

// Config configures a [Server]. The zero Config is a working server on
// plain HTTP with RS256 ID tokens and the RFC 10070 audience policy.
type Config struct {
	// IssuerPath is appended to the server's URL to form the issuer, such
	// as "/tenant" or "/tenant/" (a trailing slash is kept in the issuer;
	// endpoints are derived from the issuer without it). Zero means the
	// issuer is the bare URL, without a trailing slash. It must start with
	// "/" and carry no query or fragment.
	IssuerPath string
	// TLS serves HTTPS with httptest's self-signed certificate; use
	// [Server.HTTPClient] to trust it. Zero serves plain HTTP.
	TLS bool
	// IDTokenAlgorithm is the algorithm of ID tokens (and JWT access
	// tokens): RS256, PS256, ES256 or EdDSA. Zero means RS256.
	IDTokenAlgorithm jwks.Algorithm
	// User is the user every authorization approves. See [User] for zero
	// values.
	User User
	// ExtraAudiences are added to the aud of ID tokens beside the client
	// ID; azp is then set to the client ID. Zero adds none.
	ExtraAudiences []string
	// Audience is the policy for the aud of client assertions. Zero means
	// [AudienceIssuer].
	Audience AudiencePolicy
	// ClientAuthAlgorithms are the client assertion algorithms the server
	// accepts and advertises as token_endpoint_auth_signing_alg_values_supported;
	// a client's Algorithms must be among them. Zero means RS256, PS256,
	// ES256 and EdDSA, what panva's oidc-provider accepts by default, so an
	// ES384 or RS512 assertion that a real provider refuses is refused here
	// too. None and HMAC algorithms are refused.
	ClientAuthAlgorithms []jwks.Algorithm
	// RequireExplicitTyping refuses client assertions whose typ header is
	// not client-authentication+jwt (RFC 10070 explicit typing), absent and
	// "JWT" included. Zero accepts an absent typ, and JWT.
	RequireExplicitTyping bool
	// ClockSkew is the leeway allowed when comparing exp, iat and nbf of a
	// client assertion with the server's clock. Zero allows none.
	ClockSkew time.Duration
	// MaxAssertionLifetime is the largest exp − iat accepted for a client
	// assertion. Zero means 5 minutes.
	MaxAssertionLifetime time.Duration
	// MaxJTIs bounds how many unexpired jti values are remembered; when
	// the bound is reached, new assertions are refused with
	// ErrReplayCacheFull (fail closed). Zero means 100,000.
	MaxJTIs int
	// Now is the server's clock. Zero means time.Now.
	Now func() time.Time
	// AccessTokens is the format of access and refresh tokens. Zero means
	// [TokenOpaque].
	AccessTokens TokenFormat
	// AccessTokenLifetime is expires_in of access tokens. Zero means 1 hour.
	AccessTokenLifetime time.Duration
	// IDTokenLifetime is exp − iat of ID tokens. Zero means 1 hour.
	IDTokenLifetime time.Duration
	// CodeLifetime is how long an authorization code may be redeemed.
	// Zero means 1 minute.
	CodeLifetime time.Duration
	// Clients are registered at start, as if by [Server.RegisterClient].
	Clients []Client
	// HTTPClient fetches clients' jwks_uri. Zero means a client with a
	// 10-second timeout that trusts the system roots.
	HTTPClient *http.Client
	// ClientJWKSMaxAge is how long a client's fetched JWKS is used before it
	// is fetched again. Zero means 5 minutes.
	ClientJWKSMaxAge time.Duration
	// ClientJWKSMinRefresh is the least time between two fetches of a
	// client's JWKS, even when an assertion names an unknown kid (the
	// refetch a real server makes after a client rotates). Zero means 1
	// minute; a negative value allows a refetch on every unknown kid.
	ClientJWKSMinRefresh time.Duration
	// SlowDelay is how long the Slow… misbehaviors wait before answering.
	// The wait ends early when the request's context ends or the server
	// closes. Zero means 1 minute.
	SlowDelay time.Duration
	// OversizeBytes is the body size the Oversized… misbehaviors reach.
	// Zero means 5 MiB.
	OversizeBytes int

	// Pushed authorization requests (RFC 9126) and DPoP (RFC 9449): see
	// par.go and dpop.go.

	// RequirePushedAuthorizationRequests refuses authorization requests
	// that do not carry a request_uri from the PAR endpoint, and publishes
	// require_pushed_authorization_requests true. Zero accepts both.
	RequirePushedAuthorizationRequests bool
	// PARLifetime is expires_in of a request_uri: how long it may be used
	// (once) at the authorization endpoint. Zero means 60 seconds.
	PARLifetime time.Duration
	// DPoPAlgorithms are the algorithms accepted for DPoP proofs and
	// published as dpop_signing_alg_values_supported. Zero means ES256,
	// EdDSA and PS256. None and HMAC algorithms are refused.
	DPoPAlgorithms []jwks.Algorithm
	// DPoPProofWindow is how far a DPoP proof's iat may be from the
	// server's clock, either way. Zero means 60 seconds.
	DPoPProofWindow time.Duration
	// DPoPNonceRequired makes every DPoP proof carry the server's current
	// nonce (RFC 9449 §8, §9): a proof without it, or with an old one, is
	// answered use_dpop_nonce with a DPoP-Nonce header. Zero requires no
	// nonce.
	DPoPNonceRequired bool
	// DPoPNonceLifetime is how long a server nonce is accepted before the
	// server moves to a new one. Zero means 5 minutes.
	DPoPNonceLifetime time.Duration
	// RequireDPoP refuses every token request without a DPoP proof (400
	// invalid_dpop_proof, ErrDPoPProofMissing), as oidc-provider does in
	// its FAPI 2.0 profile, where all tokens are sender-constrained. Zero
	// accepts requests without a proof (and issues Bearer tokens).
	RequireDPoP bool
}

const (
	defaultSubject              = "248289761001"
	defaultMaxAssertionLifetime = 5 * time.Minute
	defaultMaxJTIs              = 100_000
	defaultAccessTokenLifetime  = time.Hour
	defaultIDTokenLifetime      = time.Hour
	defaultCodeLifetime         = time.Minute
	defaultClientJWKSMaxAge     = 5 * time.Minute
	defaultClientJWKSMinRefresh = time.Minute
	defaultSlowDelay            = time.Minute
	defaultOversizeBytes        = 5 << 20
	maxFormBytes                = 64 << 10
	maxClientJWKSBytes          = 1 << 20
	maxRefusals                 = 1000
	maxTokens                   = 10_000 // expired tokens are forgotten beyond this

	defaultPARLifetime       = time.Minute
	defaultDPoPProofWindow   = time.Minute
	defaultDPoPNonceLifetime = 5 * time.Minute
)
