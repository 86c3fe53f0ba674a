package provider

import (
	"context"
	"fmt"
	"time"
)

// userInfoClaims are the claims of a signed UserInfo response that are
// checked.
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
	var c registeredClaims
	err = readClaims(payload, func(name, val []byte) error {
		_, err := c.set(name, val)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := c.checkIssuerAudience("userinfo", v.issuer, v.clientID); err != nil {
		return nil, err
	}
	now := v.now()
	if err := c.checkOptionalTimes("userinfo", now, v.leeway); err != nil {
		return nil, err
	}
	if c.Iat.ok {
		i, ok := c.Iat.time()
		if !ok || i.After(now.Add(v.leeway)) {
			return nil, fmt.Errorf("provider: userinfo issued in the future at %s: %w", i.Format(time.RFC3339), errIssuedInFuture)
		}
	}
	return payload, nil
}
