package providertest

import (
	"errors"
	"time"
)

// Reasons the server refuses a request. Every [Refusal] it records wraps one
// of them, so that a test can check why with [errors.Is]. A real server would
// not tell the client; this one answers with the OAuth error code only (and,
// except for invalid_client, a short description) and records the reason.
var (
	// Client authentication (RFC 6749 §2.3, RFC 7521 §4.2, RFC 7523 §3,
	// OIDC Core §9); these answer invalid_client with 401.

	// ErrNoClientAuthentication: no client_assertion was sent.
	ErrNoClientAuthentication = errors.New("providertest: no client authentication")
	// ErrMultipleAuthMethods: an Authorization header or a client_secret
	// was sent beside (or instead of) the assertion.
	ErrMultipleAuthMethods = errors.New("providertest: more than one client authentication method")
	// ErrAssertionType: client_assertion_type is not exactly
	// urn:ietf:params:oauth:client-assertion-type:jwt-bearer.
	ErrAssertionType = errors.New("providertest: wrong client_assertion_type")
	// ErrMalformedAssertion: the assertion is not a compact JWS whose header
	// and payload are JSON objects (or uses crit, or repeats a member).
	ErrMalformedAssertion = errors.New("providertest: malformed assertion")
	// ErrUnknownClient: no registered client matches the assertion.
	ErrUnknownClient = errors.New("providertest: unknown client")
	// ErrAlgorithm: alg is none, HMAC, or not in the client's allowed list.
	ErrAlgorithm = errors.New("providertest: algorithm not allowed")
	// ErrUnknownKey: no registered key of the client has the header's kid
	// (or, without a kid, fits the algorithm).
	ErrUnknownKey = errors.New("providertest: no registered key fits")
	// ErrClientJWKS: the client's jwks_uri could not be fetched or parsed.
	ErrClientJWKS = errors.New("providertest: client JWKS unavailable")
	// ErrSignature: the signature does not verify with the client's keys.
	ErrSignature = errors.New("providertest: signature does not verify")
	// ErrIssuer: iss is missing or is not the client ID.
	ErrIssuer = errors.New("providertest: iss is not the client")
	// ErrSubject: sub is missing or is not the client ID.
	ErrSubject = errors.New("providertest: sub is not the client")
	// ErrAudience: aud does not satisfy the audience policy.
	ErrAudience = errors.New("providertest: aud not accepted")
	// ErrType: the typ header is present and neither
	// client-authentication+jwt nor JWT, or (with
	// Config.RequireExplicitTyping) not client-authentication+jwt.
	ErrType = errors.New("providertest: typ not accepted")
	// ErrMissingExpiry: exp is missing or not a number.
	ErrMissingExpiry = errors.New("providertest: exp missing")
	// ErrExpired: exp is past, beyond the allowed clock skew.
	ErrExpired = errors.New("providertest: assertion expired")
	// ErrMissingIssuedAt: iat is missing or not a number.
	ErrMissingIssuedAt = errors.New("providertest: iat missing")
	// ErrIssuedInFuture: iat is ahead of the server's clock beyond the skew.
	ErrIssuedInFuture = errors.New("providertest: iat in the future")
	// ErrLifetime: exp − iat exceeds Config.MaxAssertionLifetime, or exp is
	// before iat.
	ErrLifetime = errors.New("providertest: assertion lifetime too long")
	// ErrNotYetValid: nbf is ahead of the server's clock beyond the skew (or
	// not a number).
	ErrNotYetValid = errors.New("providertest: assertion not yet valid")
	// ErrMissingJTI: jti is missing, empty or not a string.
	ErrMissingJTI = errors.New("providertest: jti missing")
	// ErrReplay: the jti was seen before and has not yet expired.
	ErrReplay = errors.New("providertest: jti replayed")
	// ErrReplayCacheFull: Config.MaxJTIs unexpired jti values are
	// remembered already; the server fails closed.
	ErrReplayCacheFull = errors.New("providertest: jti cache full")
	// ErrClientIDMismatch: the client_id form parameter differs from sub.
	ErrClientIDMismatch = errors.New("providertest: client_id differs from sub")

	// Requests and grants.

	// ErrInvalidRequest: a required parameter is missing, repeated or
	// malformed, or the request's method or content type is wrong.
	ErrInvalidRequest = errors.New("providertest: invalid request")
	// ErrUnsupportedGrantType: the server does not know the grant_type.
	ErrUnsupportedGrantType = errors.New("providertest: unsupported grant type")
	// ErrUnauthorizedClient: the client is not registered for the grant type.
	ErrUnauthorizedClient = errors.New("providertest: grant type not allowed for client")
	// ErrInvalidCode: the authorization code is unknown or expired.
	ErrInvalidCode = errors.New("providertest: invalid authorization code")
	// ErrCodeReused: the authorization code was redeemed before; what the
	// first redemption issued is revoked.
	ErrCodeReused = errors.New("providertest: authorization code reused")
	// ErrCodeClientMismatch: the code was issued to another client.
	ErrCodeClientMismatch = errors.New("providertest: code issued to another client")
	// ErrRedirectURI: redirect_uri is not registered (authorize) or differs
	// from the one the code was issued for (token).
	ErrRedirectURI = errors.New("providertest: redirect_uri mismatch")
	// ErrPKCE: code_challenge is missing or not S256, or code_verifier does
	// not match it (RFC 7636).
	ErrPKCE = errors.New("providertest: PKCE check failed")
	// ErrScope: the scope lacks openid or asks for more than allowed.
	ErrScope = errors.New("providertest: invalid scope")
	// ErrInvalidRefreshToken: the refresh token is unknown, revoked, expired
	// or belongs to another client.
	ErrInvalidRefreshToken = errors.New("providertest: invalid refresh token")
	// ErrInvalidGrantAssertion: the assertion of a jwt-bearer grant (RFC
	// 7523 §2.1) was refused; the refusal also wraps the precise reason.
	ErrInvalidGrantAssertion = errors.New("providertest: invalid grant assertion")
	// ErrInvalidSubjectToken: the subject_token of a token exchange (RFC
	// 8693) is not a valid token this server issued.
	ErrInvalidSubjectToken = errors.New("providertest: invalid subject token")
	// ErrInvalidToken: the Bearer access token at userinfo is missing,
	// unknown, revoked or expired.
	ErrInvalidToken = errors.New("providertest: invalid access token")
	// ErrMisbehaving: the refusal was made on purpose by a [Misbehavior].
	ErrMisbehaving = errors.New("providertest: misbehaving on request")
)

// Refusal records one request the server refused.
type Refusal struct {
	// Endpoint is where the request arrived.
	Endpoint Endpoint
	// Status is the HTTP status code answered.
	Status int
	// Code is the OAuth error code answered, such as "invalid_client".
	Code string
	// Reason wraps one of the Err… sentinels of this package.
	Reason error
	// ClientID is the client the request claimed to be, when known (it may
	// come from an unverified assertion).
	ClientID string
	// Time is the server's clock when the request was refused.
	Time time.Time
}
