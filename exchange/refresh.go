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
// replaced. With a nil original only the verification runs.
// [TokenSource.IDToken] returns the latest verified ID token.
//
// Errors of a refresh: ErrNoRefreshToken, ErrIDTokenContinuity, the
// provider's ID token errors, and those of [Client.ClientCredentials]
// (errors.Is ErrInvalidGrant for a revoked or expired refresh token).
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
	if !slices.Contains(id.Audience, c.clientID) {
		return nil, fmt.Errorf("exchange: refreshed id token aud does not name the client: %w", ErrIDTokenContinuity)
	}
	if original != nil {
		if id.Issuer != original.Issuer {
			return nil, fmt.Errorf("exchange: refreshed id token iss %s differs from the original %s: %w", quote(truncate(id.Issuer, 128)), quote(truncate(original.Issuer, 128)), ErrIDTokenContinuity)
		}
		if id.Subject != original.Subject {
			return nil, fmt.Errorf("exchange: refreshed id token sub differs from the original: %w", ErrIDTokenContinuity)
		}
	}
	return id, nil
}
