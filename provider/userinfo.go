package provider

import (
	"context"
	"fmt"
	"time"
)

// userInfoClaims are the claims of a signed UserInfo response that are
// checked.
type userInfoClaims struct {
	Iss      string
	Aud      []string
	Exp, Iat optNumber
}

// VerifyUserInfo verifies a signed UserInfo response (OIDC Core §5.3.2,
// Content-Type application/jwt) and returns its verified claims, a JSON
// object: the signature by the provider's keys with an algorithm of the ID
// token allow-list, typ absent or JWT, iss exactly the issuer, aud
// containing the client ID, and exp and iat when present (they are
// optional here: not past, not in the future, with leeway). The caller
// still compares sub with the ID token's (exchange's Client.UserInfo does).
//
// It may fetch the provider's keys. Each failure wraps one sentinel:
// ErrMalformedToken, ErrUnsupportedAlgorithm, ErrInvalidSignature,
// ErrInvalidIssuer, ErrInvalidAudience, ErrTokenExpired,
// ErrTokenNotYetValid. Errors never contain the response.
func (v *IDTokenVerifier) VerifyUserInfo(ctx context.Context, raw string) ([]byte, error) {
	payload, _, err := v.core.verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	var c userInfoClaims
	err = readClaims(payload, func(name, val []byte) error {
		switch string(name) {
		case "iss":
			return setString(&c.Iss, name, val)
		case "aud":
			return setAudience(&c.Aud, name, val)
		case "exp":
			return c.Exp.set(name, val)
		case "iat":
			return c.Iat.set(name, val)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if c.Iss != v.issuer {
		return nil, fmt.Errorf("provider: userinfo iss %q, expected %q: %w", short(c.Iss), v.issuer, ErrInvalidIssuer)
	}
	if !contains(c.Aud, v.clientID) {
		return nil, fmt.Errorf("provider: userinfo aud %q does not contain the client ID %q: %w", shortList(c.Aud), v.clientID, ErrInvalidAudience)
	}
	now := v.now()
	if c.Exp.ok {
		e, ok := c.Exp.time()
		if !ok || !now.Before(e.Add(v.leeway)) {
			return nil, fmt.Errorf("provider: userinfo expired at %s (now %s, leeway %v): %w", e.Format(time.RFC3339), now.UTC().Format(time.RFC3339), v.leeway, ErrTokenExpired)
		}
	}
	if c.Iat.ok {
		i, ok := c.Iat.time()
		if !ok || i.After(now.Add(v.leeway)) {
			return nil, fmt.Errorf("provider: userinfo issued in the future at %s: %w", i.Format(time.RFC3339), errIssuedInFuture)
		}
	}
	return payload, nil
}
