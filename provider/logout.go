package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/pkjwt/pkjwt/internal/jose"
)

const (
	// backchannelLogoutEvent is the member of a logout token's events claim
	// (OpenID Connect Back-Channel Logout 1.0 §2.4).
	backchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"
	// logoutTokenType is the explicit typ of a logout token (§2.4).
	logoutTokenType = "logout+jwt"
	// maxLogoutTokenAge bounds how long after its iat a logout token is
	// accepted (plus the leeway): providers send them at once, and a short
	// window bounds what the replay cache must remember.
	maxLogoutTokenAge = 2 * time.Minute
	// maxLogoutJTIs bounds the default in-memory replay cache. Only
	// verified logout tokens of the provider reach it.
	maxLogoutJTIs = 10_000
)

// LogoutToken is a verified logout token's claims (OpenID Connect
// Back-Channel Logout 1.0 §2.4): whom the provider logged out. At least one
// of Subject and SessionID is set.
type LogoutToken struct {
	// Subject is sub, the user whose sessions end; empty when absent.
	Subject string
	// SessionID is sid, the session that ends (the sid claim of the ID
	// tokens of that session); empty when absent.
	SessionID string
	// ID is jti, accepted once.
	ID string
	// IssuedAt is iat.
	IssuedAt time.Time
}

// logoutClaims is what a logout token's claims are decoded into.
type logoutClaims struct {
	registeredClaims
	Sid      string
	hasNonce bool
	events   []byte // raw, nil when absent
}

// VerifyLogoutToken verifies a logout token POSTed to the client's
// backchannel_logout_uri (OpenID Connect Back-Channel Logout 1.0 §2.6):
// the signature by the provider's keys with an algorithm of the ID token
// allow-list (as [IDTokenVerifier.Verify] checks it); typ logout+jwt or
// absent (any other typ, "JWT" included, is refused: explicit typing is
// what tells a logout token from the provider's other JWTs); iss exactly
// the issuer; aud containing the client ID; iat present, not in the future
// and at most two minutes old (plus leeway); exp, when present, not past;
// an events claim that is a JSON object whose
// http://schemas.openid.net/event/backchannel-logout member is a JSON
// object; sub or sid or both; jti present; no nonce (so an ID token is
// never taken for a logout token). Last, the jti is remembered in the
// verifier's ReplayCache until the token's window closes, and a jti seen
// before is refused; when ending the token's sessions fails,
// [IDTokenVerifier.ReleaseLogoutToken] lets the provider's redelivery in.
//
// It may fetch the provider's keys. Each failure wraps one sentinel:
// ErrMalformedToken (structure, typ, a missing or mistyped claim, a nonce,
// no back-channel logout event), ErrUnsupportedAlgorithm,
// ErrInvalidSignature, ErrInvalidIssuer, ErrInvalidAudience,
// ErrTokenExpired (also for an iat too old), ErrTokenNotYetValid,
// ErrTokenReplayed; an error of the ReplayCache refuses the token too.
// Errors never contain the token.
func (v *IDTokenVerifier) VerifyLogoutToken(ctx context.Context, raw string) (*LogoutToken, error) {
	core := v.core
	core.typ, core.typOptional = logoutTokenType, true
	payload, _, err := core.verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	var c logoutClaims
	if err := decodeLogoutClaims(payload, &c); err != nil {
		return nil, err
	}
	if err := c.checkIssuerAudience("logout token", v.issuer, v.clientID); err != nil {
		return nil, err
	}
	if c.hasNonce {
		return nil, fmt.Errorf("provider: logout token carries a nonce, which §2.4 forbids (an ID token?): %w", ErrMalformedToken)
	}
	if err := checkLogoutEvent(c.events); err != nil {
		return nil, err
	}
	if c.Sub == "" && c.Sid == "" {
		return nil, fmt.Errorf("provider: logout token has neither sub nor sid: %w", ErrMalformedToken)
	}
	if c.Jti == "" {
		return nil, fmt.Errorf("provider: logout token has no jti: %w", ErrMalformedToken)
	}
	now := v.now()
	iat, ok := c.Iat.time()
	if !ok {
		return nil, fmt.Errorf("provider: logout token iat is missing or out of range: %w", errMissingIssuedAt)
	}
	if iat.After(now.Add(v.leeway)) {
		return nil, fmt.Errorf("provider: logout token issued in the future at %s (now %s, leeway %v): %w", iat.Format(time.RFC3339), now.UTC().Format(time.RFC3339), v.leeway, errIssuedInFuture)
	}
	until := iat.Add(maxLogoutTokenAge + v.leeway)
	if !now.Before(until) {
		return nil, fmt.Errorf("provider: logout token issued at %s is older than %v (now %s, leeway %v): %w", iat.Format(time.RFC3339), maxLogoutTokenAge, now.UTC().Format(time.RFC3339), v.leeway, ErrTokenExpired)
	}
	if err := c.checkOptionalTimes("logout token", now, v.leeway); err != nil {
		return nil, err
	}
	fresh, err := v.replay.Remember(ctx, v.logoutKey(c.Jti), until)
	if err != nil {
		return nil, fmt.Errorf("provider: logout token jti could not be remembered, so the token is refused: %v", err)
	}
	if !fresh {
		return nil, fmt.Errorf("provider: logout token jti %q was accepted before: %w", short(c.Jti), ErrTokenReplayed)
	}
	return &LogoutToken{Subject: c.Sub, SessionID: c.Sid, ID: c.Jti, IssuedAt: iat}, nil
}

// ReleaseLogoutToken forgets the jti of t, a token VerifyLogoutToken
// accepted, in the verifier's ReplayCache, so that the provider's
// redelivery of the same token is accepted once more. Call it only when
// ending t's sessions failed and the answer to the provider says so (OpenID
// Connect Back-Channel Logout 1.0 §2.8: a 400), never after they ended.
// Errors are the ReplayCache's, formatted with %v.
func (v *IDTokenVerifier) ReleaseLogoutToken(ctx context.Context, t *LogoutToken) error {
	if t == nil || t.ID == "" {
		return nil
	}
	if err := v.replay.Forget(ctx, v.logoutKey(t.ID)); err != nil {
		return fmt.Errorf("provider: forget a logout token jti: %v", err)
	}
	return nil
}

// logoutKey is the ReplayCache id of a logout token's jti. The issuer
// scopes the jti: two providers may pick the same one.
func (v *IDTokenVerifier) logoutKey(jti string) string {
	return "logout\x00" + v.issuer + "\x00" + jti
}

// decodeLogoutClaims reads the claims of a logout token.
func decodeLogoutClaims(data []byte, c *logoutClaims) error {
	return readClaims(data, func(name, val []byte) error {
		if ok, err := c.set(name, val); ok {
			return err
		}
		switch string(name) {
		case "sid":
			return setString(&c.Sid, name, val)
		case "nonce":
			c.hasNonce = true
		case "events":
			c.events = val
		}
		return nil
	})
}

// checkLogoutEvent checks the events claim: a JSON object with the
// back-channel logout event, itself a JSON object.
func checkLogoutEvent(events []byte) error {
	if len(events) == 0 || events[0] != '{' {
		return fmt.Errorf("provider: logout token has no events object (an ID token or access token?): %w", ErrMalformedToken)
	}
	found := false
	err := jose.Object(events, func(name, val []byte) error {
		if string(name) == backchannelLogoutEvent {
			found = len(val) > 0 && val[0] == '{'
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("provider: logout token events: %v: %w", err, ErrMalformedToken)
	}
	if !found {
		return fmt.Errorf("provider: logout token events lack the back-channel logout event object: %w", ErrMalformedToken)
	}
	return nil
}
