package exchange

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/oauth2"

	"github.com/pkjwt/pkjwt/assertion"
)

// Grant types this package sends.
const (
	// grantTypeJWTBearer is the JWT bearer grant of RFC 7523 §2.1.
	grantTypeJWTBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	// grantTypeTokenExchange is the token exchange grant of RFC 8693 §2.1.
	grantTypeTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
)

// Token type identifiers of RFC 8693 §3 for [TokenExchangeRequest]. Any other
// identifier (a SAML assertion's, say) is passed as its URN string.
const (
	// TokenTypeAccessToken is the RFC 8693 §3 identifier of an OAuth 2.0
	// access token.
	TokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"
	// TokenTypeRefreshToken is the RFC 8693 §3 identifier of a refresh token.
	TokenTypeRefreshToken = "urn:ietf:params:oauth:token-type:refresh_token"
	// TokenTypeIDToken is the RFC 8693 §3 identifier of an OpenID Connect
	// ID token.
	TokenTypeIDToken = "urn:ietf:params:oauth:token-type:id_token"
	// TokenTypeJWT is the RFC 8693 §3 identifier of a JWT of any other kind.
	TokenTypeJWT = "urn:ietf:params:oauth:token-type:jwt"
)

// authenticate adds a freshly minted client assertion (and, with DPoP, a
// proof) to form and posts it to the token endpoint. secrets are the other
// values of form that must never appear in an error. The only retry is the
// one DPoP nonce challenge of sendAuthenticated, with a new assertion and a
// new proof.
func (c *Client) authenticate(ctx context.Context, form url.Values, secrets []string) (*tokenResponse, error) {
	var r *tokenResponse
	err := c.sendAuthenticated(ctx, &c.ep, form, secrets, func(status int, body []byte, secrets []string) error {
		var err error
		r, err = parseTokenResponse(status, body, c.ep.now(), secrets)
		return err
	})
	if err != nil {
		return nil, err
	}
	r.dpop = c.dpop != nil
	return r, nil
}

// requireBearer refuses a token type this package's clients cannot send:
// Bearer is required, or DPoP when the request carried a proof.
func requireBearer(r *tokenResponse) error { return checkTokenType(r, false) }

// ClientCredentials requests a token with the client_credentials grant (RFC
// 6749 §4.4), the client authenticated by a fresh assertion. It does one
// network round trip and never retries. [WithScopes], [WithResource] and
// [WithParam] apply; Config.Scopes do not (they are the login's).
//
// Errors: ErrInvalidConfig for an invalid option, a *[TokenError]
// (errors.Is with ErrInvalidClient, ErrInvalidScope, ErrUnauthorizedClient,
// …), ErrMalformedResponse (also for a redirect, a body over
// Config.MaxResponseBytes or a token type other than Bearer), an assertion
// error, or a context or network error.
func (c *Client) ClientCredentials(ctx context.Context, opts ...Option) (*oauth2.Token, error) {
	o, err := collect(opts)
	if err != nil {
		return nil, err
	}
	return c.clientCredentials(ctx, o)
}

func (c *Client) clientCredentials(ctx context.Context, o options) (*oauth2.Token, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	o.applyToken(form)
	r, err := c.authenticate(ctx, form, nil)
	if err != nil {
		return nil, err
	}
	if err := requireBearer(r); err != nil {
		return nil, err
	}
	return r.token, nil
}

// ClientCredentialsTokenSource returns a [TokenSource] that fetches tokens
// with the client_credentials grant, minting a new assertion for every
// fetch, and caches each until it expires. Its [TokenSource.Client] is an
// [http.Client] for calling APIs with those tokens. It does no I/O until the
// first token is requested. An invalid option is reported by every fetch.
func (c *Client) ClientCredentialsTokenSource(opts ...Option) *TokenSource {
	o, oerr := collect(opts)
	ts := newTokenSource(func(ctx context.Context, _ *oauth2.Token) (*fetched, error) {
		if oerr != nil {
			return nil, oerr
		}
		t, err := c.clientCredentials(ctx, o)
		if err != nil {
			return nil, err
		}
		return &fetched{token: t}, nil
	}, nil, c.now, c.expiryDelta, c.apiClient)
	ts.dpop = c.binding(o)
	return ts
}

// JWTBearer exchanges a JWT for an access token with the JWT bearer grant
// (RFC 7523 §2.1): grant is the JWT the application minted (with an
// [assertion.TokenMinter], say) or received, sent as the assertion
// parameter. The client also authenticates with a fresh client assertion
// (RFC 7523 §2.2), so the request carries two JWTs. [WithScopes],
// [WithResource] and [WithParam] apply. One round trip, no retry.
//
// Errors: those of [Client.ClientCredentials]; an empty grant is
// ErrInvalidConfig.
func (c *Client) JWTBearer(ctx context.Context, grant string, opts ...Option) (*oauth2.Token, error) {
	o, err := collect(opts)
	if err != nil {
		return nil, err
	}
	return c.jwtBearer(ctx, grant, o)
}

func (c *Client) jwtBearer(ctx context.Context, grant string, o options) (*oauth2.Token, error) {
	if strings.TrimSpace(grant) == "" {
		return nil, fmt.Errorf("exchange: JWT bearer grant without a JWT: %w", errInvalidOption)
	}
	form := url.Values{"grant_type": {grantTypeJWTBearer}, "assertion": {grant}}
	o.applyToken(form)
	r, err := c.authenticate(ctx, form, []string{grant})
	if err != nil {
		return nil, err
	}
	if err := requireBearer(r); err != nil {
		return nil, err
	}
	return r.token, nil
}

// JWTBearerTokenSource returns a [TokenSource] for the JWT bearer grant that
// takes a new grant JWT from grants and mints a new client assertion for
// every fetch. Wrap an [assertion.TokenMinter] in an [assertion.SourceFunc]
// to mint the grant JWT per fetch.
func (c *Client) JWTBearerTokenSource(grants assertion.Source, opts ...Option) *TokenSource {
	o, oerr := collect(opts)
	ts := newTokenSource(func(ctx context.Context, _ *oauth2.Token) (*fetched, error) {
		if oerr != nil {
			return nil, oerr
		}
		if grants == nil {
			return nil, fmt.Errorf("exchange: JWTBearerTokenSource without a grant source: %w", errInvalidOption)
		}
		g, err := grants.Assertion(ctx)
		if err != nil {
			return nil, fmt.Errorf("exchange: grant JWT: %w", err)
		}
		t, err := c.jwtBearer(ctx, g, o)
		if err != nil {
			return nil, err
		}
		return &fetched{token: t}, nil
	}, nil, c.now, c.expiryDelta, c.apiClient)
	ts.dpop = c.binding(o)
	return ts
}

// TokenExchangeRequest is an RFC 8693 §2.1 token exchange request. Only
// SubjectToken and SubjectTokenType are required.
type TokenExchangeRequest struct {
	// SubjectToken is the token that represents the party on whose behalf
	// the request is made. Required.
	SubjectToken string
	// SubjectTokenType is its type identifier, such as
	// [TokenTypeAccessToken] or [TokenTypeJWT]. Required.
	SubjectTokenType string
	// RequestedTokenType is the type wanted back; empty leaves it to the
	// server.
	RequestedTokenType string
	// Audience names the target services (logical names); empty sends none.
	Audience []string
	// Resource names the target services by absolute URI (no fragment);
	// empty sends none.
	Resource []string
	// Scopes are the scopes wanted; empty sends none.
	Scopes []string
	// ActorToken represents the acting party (delegation); empty sends none.
	ActorToken string
	// ActorTokenType is its type identifier; required with ActorToken and
	// refused without it.
	ActorTokenType string
}

// check validates r.
func (r TokenExchangeRequest) check() error {
	var errs []string
	if r.SubjectToken == "" {
		errs = append(errs, "SubjectToken is empty")
	}
	if r.SubjectTokenType == "" {
		errs = append(errs, "SubjectTokenType is empty")
	}
	if (r.ActorToken == "") != (r.ActorTokenType == "") {
		errs = append(errs, "ActorToken and ActorTokenType go together")
	}
	for _, s := range r.Scopes {
		if !validScope(s) {
			errs = append(errs, fmt.Sprintf("scope %s is not an RFC 6749 scope token", quote(truncate(s, 64))))
		}
	}
	if slices.Contains(r.Audience, "") {
		errs = append(errs, "an Audience is empty")
	}
	for _, res := range r.Resource {
		if err := checkResource(res); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("exchange: token exchange request: %s: %w", strings.Join(errs, "; "), errInvalidOption)
	}
	return nil
}

// TokenExchange performs an RFC 8693 token exchange, the client
// authenticated by a fresh assertion. The returned token's TokenType is what
// the server said ("Bearer", or "N_A" for a token that is not an access
// token; with Config.DPoPKey, DPoP, or N_A only when issued_token_type is
// not an access token, else ErrMalformedResponse); its issued_token_type is in Extra("issued_token_type"), which RFC
// 8693 §2.2.1 requires. [WithParam] applies. One round trip, no retry.
//
// Errors: those of [Client.ClientCredentials] (ErrInvalidScope for a refused
// scope, audience or resource), and ErrInvalidConfig for an invalid request.
func (c *Client) TokenExchange(ctx context.Context, req TokenExchangeRequest, opts ...Option) (*oauth2.Token, error) {
	if err := req.check(); err != nil {
		return nil, err
	}
	o, err := collect(opts)
	if err != nil {
		return nil, err
	}
	form := url.Values{
		"grant_type":         {grantTypeTokenExchange},
		"subject_token":      {req.SubjectToken},
		"subject_token_type": {req.SubjectTokenType},
	}
	if req.RequestedTokenType != "" {
		form.Set("requested_token_type", req.RequestedTokenType)
	}
	for _, a := range req.Audience {
		form.Add("audience", a)
	}
	for _, res := range req.Resource {
		form.Add("resource", res)
	}
	if len(req.Scopes) > 0 {
		form.Set("scope", strings.Join(req.Scopes, " "))
	}
	secrets := []string{req.SubjectToken}
	if req.ActorToken != "" {
		form.Set("actor_token", req.ActorToken)
		form.Set("actor_token_type", req.ActorTokenType)
		secrets = append(secrets, req.ActorToken)
	}
	o.applyToken(form)
	r, err := c.authenticate(ctx, form, secrets)
	if err != nil {
		return nil, err
	}
	if r.issuedTokenType == "" {
		return nil, fmt.Errorf("exchange: token exchange response has no issued_token_type (RFC 8693 §2.2.1 requires it): %w", ErrMalformedResponse)
	}
	if r.dpop {
		if err := checkTokenType(r, true); err != nil {
			return nil, err
		}
	}
	return r.token, nil
}
