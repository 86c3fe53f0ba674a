package exchange

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Sentinels for the error codes of RFC 6749 §4.1.2.1 and §5.2, RFC 8693 §2.2.2,
// RFC 8707 §2 and OpenID Connect Core §3.1.2.6, one per decision a caller
// makes. A [*TokenError] or [*AuthorizationError] matches the sentinel of its
// code with [errors.Is]; where several codes share a sentinel, the error's
// Code field keeps the exact code. The sentinels themselves are never
// returned alone.
var (
	// ErrInvalidRequest: "invalid_request" — a parameter is missing, repeated
	// or malformed.
	ErrInvalidRequest = errors.New("exchange: invalid_request")
	// ErrInvalidClient: "invalid_client" — client authentication failed. For
	// private_key_jwt this usually means the provider does not know the
	// signing key (publish it), the assertion's audience is not what it
	// expects (try the other [assertion.Profile]) or the clocks disagree.
	ErrInvalidClient = errors.New("exchange: invalid_client")
	// ErrInvalidGrant: "invalid_grant" — the code, refresh token or grant
	// assertion is invalid, expired, revoked or was issued to another client.
	// Some providers also answer it for a rejected client assertion.
	ErrInvalidGrant = errors.New("exchange: invalid_grant")
	// ErrUnauthorizedClient: "unauthorized_client", "unsupported_grant_type"
	// or "unsupported_response_type" — the client may not use this grant
	// type or response type; the fix is in the client's registration at the
	// provider.
	ErrUnauthorizedClient = errors.New("exchange: unauthorized_client")
	// ErrInvalidScope: "invalid_scope" or "invalid_target" (RFC 8693 §2.2.2,
	// RFC 8707 §2) — a requested scope, audience or resource is unknown or
	// not allowed: ask for less.
	ErrInvalidScope = errors.New("exchange: invalid_scope")
	// ErrAccessDenied: "access_denied" — the user or the server refused.
	ErrAccessDenied = errors.New("exchange: access_denied")
	// ErrServerError: "server_error" or "temporarily_unavailable" — the
	// provider failed or is overloaded: retry later.
	ErrServerError = errors.New("exchange: server_error")
	// ErrInteractionRequired: "interaction_required", "login_required",
	// "account_selection_required" or "consent_required" (OIDC Core
	// §3.1.2.6) — a login with prompt=none needs the user: start it again
	// without prompt=none.
	ErrInteractionRequired = errors.New("exchange: interaction_required")
	// ErrInvalidToken: "invalid_token" (RFC 6750 §3.1) — a resource server
	// (the UserInfo endpoint) refused the access token as expired, revoked
	// or malformed: refresh it ([TokenSource.Refresh]) and retry once.
	ErrInvalidToken = errors.New("exchange: invalid_token")
)

// codeSentinel maps a protocol error code to its sentinel. Only exact,
// case-sensitive matches count: the codes are ASCII tokens defined by the
// specifications, and a server that spells them differently is not guessed at.
var codeSentinel = map[string]error{
	"invalid_request":            ErrInvalidRequest,
	"invalid_client":             ErrInvalidClient,
	"invalid_grant":              ErrInvalidGrant,
	"unauthorized_client":        ErrUnauthorizedClient,
	"unsupported_grant_type":     ErrUnauthorizedClient,
	"unsupported_response_type":  ErrUnauthorizedClient,
	"invalid_scope":              ErrInvalidScope,
	"invalid_target":             ErrInvalidScope,
	"access_denied":              ErrAccessDenied,
	"server_error":               ErrServerError,
	"temporarily_unavailable":    ErrServerError,
	"interaction_required":       ErrInteractionRequired,
	"login_required":             ErrInteractionRequired,
	"account_selection_required": ErrInteractionRequired,
	"consent_required":           ErrInteractionRequired,
	"invalid_token":              ErrInvalidToken,
	"insufficient_scope":         ErrInvalidScope,
}

// Errors this package detects itself. Every error a function of this package
// returns wraps one of these, a [*TokenError], an [*AuthorizationError], an
// error of the assertion or provider package, or a context or network error.
var (
	// ErrMalformedResponse: the token endpoint's answer is not a valid RFC
	// 6749 §5.1 response: not a JSON object, a missing or mistyped member, a
	// negative expires_in, an unexpected status, a body over
	// [Config.MaxResponseBytes] (an error, never a truncation), a redirect
	// (never followed: a 307 or 308 would resend the code, the PKCE verifier
	// and the client assertion to another address; configure the token
	// endpoint's final URL), a token type other than Bearer (except from a
	// token exchange), or no id_token in the answer to an openid login (OIDC
	// Core §3.1.3.3). The answers of the UserInfo, revocation and
	// introspection endpoints are held to the same rules.
	ErrMalformedResponse = errors.New("exchange: malformed token response")
	// ErrStateMismatch: the callback does not answer this transaction: its
	// state is missing or not the transaction's (a forged or replayed
	// callback, or a session mix-up), or the query repeats a parameter or
	// has neither code nor error (RFC 6749 §3.1). Start the login again.
	ErrStateMismatch = errors.New("exchange: callback does not match the transaction")
	// ErrIssuerMismatch: the callback's iss parameter (RFC 9207) is not the
	// provider's issuer, or is missing although the provider advertises
	// authorization_response_iss_parameter_supported (RFC 9207 §2.4): a
	// mix-up attack, or the callback belongs to another provider.
	ErrIssuerMismatch = errors.New("exchange: callback iss is missing or not the issuer")
	// ErrInvalidTransaction: the transaction is incomplete, belongs to
	// another provider, or is older than [Config.TransactionMaxAge]. Start
	// the login again.
	ErrInvalidTransaction = errors.New("exchange: invalid or expired transaction")
	// ErrNoRefreshToken: a refresh was needed but there is no refresh token.
	ErrNoRefreshToken = errors.New("exchange: no refresh token")
	// ErrIDTokenContinuity: an ID token returned by a refresh breaks
	// continuity with the original login's (OIDC Core §12.2): another iss,
	// another sub, or an aud without the client. Every such failure matches
	// it; each also matches the sentinel of what differs: ErrSubjectChanged,
	// provider.ErrInvalidIssuer or provider.ErrInvalidAudience.
	ErrIDTokenContinuity = errors.New("exchange: refreshed id_token does not match the original")
	// ErrSubjectChanged: an ID token returned by a refresh is about another
	// user (another sub) than the original login's. The session must not
	// go on as the original user; sign the user in again. It is the one
	// case of ErrIDTokenContinuity that names a user, and always comes with
	// it.
	ErrSubjectChanged = errors.New("exchange: refreshed id_token has another subject")
	// ErrInvalidConfig: a [Config] field is missing or invalid, the provider
	// does not fit it (no PKCE S256 among its code challenge methods), or a
	// per-call argument is: an [Option]'s value is invalid or sets a
	// parameter this package controls, a [TokenExchangeRequest] is
	// incomplete, a JWT bearer grant is empty.
	ErrInvalidConfig = errors.New("exchange: invalid config")
	// ErrUserInfoSubject: the UserInfo response's sub is missing or is not
	// the subject of the login's ID token (OIDC Core §5.3.2): the response
	// is about another user and must not be used.
	ErrUserInfoSubject = errors.New("exchange: userinfo sub is not the ID token's")
)

// Precise causes behind the public sentinels, for this package's tests. Each
// wraps the sentinel a caller checks; the message at the call site says the
// rest.
var (
	errRedirect             = fmt.Errorf("%w: redirect", ErrMalformedResponse)
	errUnsupportedTokenType = fmt.Errorf("%w: unsupported token type", ErrMalformedResponse)
	errNoIDToken            = fmt.Errorf("%w: no id_token", ErrMalformedResponse)
	errMalformedCallback    = fmt.Errorf("%w: malformed callback", ErrStateMismatch)
	errIssuerMissing        = fmt.Errorf("%w: iss missing", ErrIssuerMismatch)
	errTransactionExpired   = fmt.Errorf("%w: expired", ErrInvalidTransaction)
	errPKCEUnsupported      = fmt.Errorf("%w: no PKCE S256", ErrInvalidConfig)
	errInvalidOption        = fmt.Errorf("%w: invalid option", ErrInvalidConfig)
	errBadDPoPNonce         = fmt.Errorf("%w: bad DPoP-Nonce", ErrMalformedResponse)
	errDPoPNonceLoop        = fmt.Errorf("%w: DPoP nonce demanded again", ErrMalformedResponse)
	errDPoPOrigin           = fmt.Errorf("%w: DPoP-bound token for another origin", ErrInvalidConfig)
	errDPoPReplay           = fmt.Errorf("%w: request body cannot be replayed for a DPoP nonce", ErrInvalidConfig)
	errBadPARResponse       = fmt.Errorf("%w: bad PAR response", ErrMalformedResponse)
	errFAPI2                = fmt.Errorf("%w: FAPI 2.0 profile", ErrInvalidConfig)
)

// Bounds on the strings taken from a server's error answer. A description
// often names a URL (ORY Hydra's wrong-audience text ends with the token
// endpoint it wants, 257 bytes in all), so its bound leaves room for a
// whole one.
const (
	maxCodeLen        = 64
	maxDescriptionLen = 1024
	maxURILen         = 1024
)

// TokenError is a token endpoint's refusal (RFC 6749 §5.2): a non-2xx status,
// or an error member in a 200. It is also the refusal of the UserInfo
// endpoint (RFC 6750 §3: the code and description of its WWW-Authenticate
// challenge) and of the revocation and introspection endpoints. It keeps what the server said and does not
// guess: a provider that answers 500 for an expired assertion yields a
// TokenError with StatusCode 500 and whatever code it sent, or none.
//
// Description and URI are untrusted text from the server, shortened and with
// any client assertion, code, verifier or token that this request sent, and
// anything shaped like a JWT, replaced by "[redacted]". Escape them before
// rendering; [TokenError.Error] quotes them.
//
// errors.Is(err, ErrInvalidClient) and the other code sentinels match on
// Code.
type TokenError struct {
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// Code is the error member, "" when the body had none.
	Code string
	// Description is the error_description member, at most 1 KiB.
	Description string
	// URI is the error_uri member, at most 1 KiB.
	URI string

	// endpoint names the refusing endpoint in Error; "" is the token
	// endpoint.
	endpoint string
}

// Error describes the refusal with the untrusted strings quoted and escaped.
func (e *TokenError) Error() string {
	var b strings.Builder
	ep := e.endpoint
	if ep == "" {
		ep = "token"
	}
	fmt.Fprintf(&b, "exchange: %s endpoint refused the request (status %d", ep, e.StatusCode)
	if e.Code != "" {
		b.WriteString(", error ")
		b.WriteString(quote(e.Code))
	} else {
		b.WriteString(", no error code")
	}
	if e.Description != "" {
		b.WriteString(", description ")
		b.WriteString(quote(e.Description))
	}
	if e.URI != "" {
		b.WriteString(", uri ")
		b.WriteString(quote(e.URI))
	}
	b.WriteString(")")
	return b.String()
}

// Is reports whether target is the sentinel of e's Code.
func (e *TokenError) Is(target error) bool {
	s, ok := codeSentinel[e.Code]
	return ok && s == target
}

// AuthorizationError is an error response from the authorization endpoint
// (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6), delivered to the redirect URI.
// It is returned only after the callback's state and iss were checked, so it
// belongs to the transaction. Description and URI are untrusted, bounded and
// redacted like those of [TokenError]; escape them before rendering.
//
// errors.Is(err, ErrAccessDenied) and the other code sentinels match on Code.
type AuthorizationError struct {
	// Code is the error parameter.
	Code string
	// Description is the error_description parameter, at most 1 KiB.
	Description string
	// URI is the error_uri parameter, at most 1 KiB.
	URI string
}

// Error describes the refusal with the untrusted strings quoted and escaped.
func (e *AuthorizationError) Error() string {
	var b strings.Builder
	b.WriteString("exchange: authorization refused (error ")
	b.WriteString(quote(e.Code))
	if e.Description != "" {
		b.WriteString(", description ")
		b.WriteString(quote(e.Description))
	}
	if e.URI != "" {
		b.WriteString(", uri ")
		b.WriteString(quote(e.URI))
	}
	b.WriteString(")")
	return b.String()
}

// Is reports whether target is the sentinel of e's Code.
func (e *AuthorizationError) Is(target error) bool {
	s, ok := codeSentinel[e.Code]
	return ok && s == target
}

// jwtLike matches compact JWS/JWE serialisations and their prefixes: a server
// that echoes an assertion or token, even cut short, must not put it into an
// error.
var jwtLike = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*(\.[A-Za-z0-9_-]*)*`)

// untrusted bounds a server-provided string to max bytes (on a rune
// boundary), replaces every secret this request sent and anything shaped like
// a JWT with "[redacted]", and drops invalid UTF-8.
func untrusted(s string, max int, secrets []string) string {
	if s == "" {
		return ""
	}
	// Bound first so that the replacements below work on a small string,
	// but leave room for a secret that straddles the cut.
	if len(s) > 4*max {
		s = s[:4*max]
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	s = jwtLike.ReplaceAllString(s, "[redacted]")
	return truncate(s, max)
}

// truncate cuts s to at most max bytes on a rune boundary, marking the cut.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// quote renders an untrusted string for an error message: Go-quoted, ASCII
// only, and with the HTML specials escaped, so that an error written into a
// page or a terminal cannot inject markup or control sequences.
func quote(s string) string {
	q := strconv.QuoteToASCII(s)
	return strings.NewReplacer("<", `\u003c`, ">", `\u003e`, "&", `\u0026`).Replace(q)
}
