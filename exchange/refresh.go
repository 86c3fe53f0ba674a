package exchange

import (
	"context"
	"fmt"
	"net/url"
	"slices"

	"golang.org/x/oauth2"

	"github.com/pkjwt/pkjwt/provider"
)

// RefreshTokenSource returns a [TokenSource] that starts with t and, when t
// expires, refreshes it (RFC 6749 §6) with a freshly minted client assertion
// for every refresh request, which x/oauth2's own refresher cannot carry. A
// rotated refresh token replaces the old one; when the server sends none,
// the old one is kept. [WithScopes] narrows the scope of refreshed tokens.
//
// original is the verified ID token of the login (Result.IDToken), or nil.
// When a refresh returns an ID token, it is verified (signature, iss, aud,
// azp, exp, iat, at_hash; no nonce, or the original one) and must keep the
// original's iss and sub and name this client in aud (OIDC Core §12.2);
// otherwise the refresh fails with ErrIDTokenContinuity and the token is not
// replaced. The error also says which: ErrSubjectChanged for another sub,
// provider.ErrInvalidIssuer for another iss, provider.ErrInvalidAudience
// for an aud without this client. With a nil original only the
// verification and the aud check run. [TokenSource.IDToken] returns the
// latest verified ID token.
//
// Errors of a refresh: ErrNoRefreshToken, ErrIDTokenContinuity with
// ErrSubjectChanged, provider.ErrInvalidIssuer or
// provider.ErrInvalidAudience, the provider's ID token errors, and those of
// [Client.ClientCredentials] (errors.Is ErrInvalidGrant for a revoked or
// expired refresh token).
func (c *Client) RefreshTokenSource(t *oauth2.Token, original *provider.IDToken, opts ...Option) *TokenSource {
	o, oerr := collect(opts)
	ts := newTokenSource(func(ctx context.Context, cur *oauth2.Token) (*fetched, error) {
		if oerr != nil {
			return nil, oerr
		}
		if cur == nil {
			cur = t
		}
		return c.refresh(ctx, cur, original, o)
	}, t, c.now, c.expiryDelta, c.apiClient)
	ts.id = original
	ts.dpop = c.binding(o)
	return ts
}

// refresh runs one refresh_token grant.
func (c *Client) refresh(ctx context.Context, cur *oauth2.Token, original *provider.IDToken, o options) (*fetched, error) {
	if cur == nil || cur.RefreshToken == "" {
		return nil, fmt.Errorf("exchange: the token expired and there is no refresh token: %w", ErrNoRefreshToken)
	}
	rt := cur.RefreshToken
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	o.applyToken(form)
	r, err := c.authenticate(ctx, form, []string{rt})
	if err != nil {
		return nil, err
	}
	if err := requireBearer(r); err != nil {
		return nil, err
	}
	tok := r.token
	if tok.RefreshToken == "" {
		tok.RefreshToken = rt
	}
	res := &fetched{token: tok}
	if !r.hasIDToken {
		return res, nil
	}
	if r.idToken == "" {
		return nil, fmt.Errorf("exchange: the refresh response has an empty id_token: %w", ErrMalformedResponse)
	}
	id, err := c.verifyRefreshed(ctx, r.idToken, tok.AccessToken, original)
	if err != nil {
		return nil, err
	}
	res.id = id
	return res, nil
}

// verifyRefreshed verifies an ID token from a refresh and its continuity
// with the original (OIDC Core §12.2).
func (c *Client) verifyRefreshed(ctx context.Context, raw, accessToken string, original *provider.IDToken) (*provider.IDToken, error) {
	// A refreshed ID token usually has no nonce; some providers repeat the
	// original one. Anything else is refused.
	exp := provider.Expected{Refresh: true, AccessToken: accessToken}
	if original != nil {
		exp.Nonce = original.Nonce
	}
	id, err := c.verifier.Verify(ctx, raw, exp)
	if err != nil {
		return nil, fmt.Errorf("exchange: id token of the refresh: %w", err)
	}
	if err := continuity(id, original, c.clientID); err != nil {
		return nil, err
	}
	return id, nil
}

// continuity checks a verified, refreshed ID token id against the original
// one of the login (OIDC Core §12.2): aud names clientID, and, when there is
// an original, iss and sub are the original's. The verifier checks iss and
// aud against the provider too; this check does not rely on it.
func continuity(id, original *provider.IDToken, clientID string) error {
	if !slices.Contains(id.Audience, clientID) {
		return &continuityError{
			msg:    "exchange: refreshed id token aud does not name the client (OIDC Core §12.2)",
			reason: provider.ErrInvalidAudience,
		}
	}
	if original == nil {
		return nil
	}
	if id.Issuer != original.Issuer {
		return &continuityError{
			msg: fmt.Sprintf("exchange: refreshed id token iss %s differs from the original %s (OIDC Core §12.2)",
				quote(truncate(id.Issuer, 128)), quote(truncate(original.Issuer, 128))),
			reason: provider.ErrInvalidIssuer,
		}
	}
	if id.Subject != original.Subject {
		return &continuityError{
			msg:    "exchange: refreshed id token sub differs from the original login's (OIDC Core §12.2); sign the user in again",
			reason: ErrSubjectChanged,
		}
	}
	return nil
}

// continuityError is a refreshed ID token that breaks continuity with the
// original: errors.Is matches ErrIDTokenContinuity and the reason (the
// sentinel of what differs).
type continuityError struct {
	msg    string
	reason error
}

func (e *continuityError) Error() string { return e.msg }

// Is reports whether target is ErrIDTokenContinuity.
func (e *continuityError) Is(target error) bool { return target == ErrIDTokenContinuity }

// Unwrap returns the reason.
func (e *continuityError) Unwrap() error { return e.reason }
