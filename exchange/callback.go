package exchange

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"golang.org/x/oauth2"

	"github.com/pkjwt/pkjwt/provider"
)

// Result is a completed login: the tokens and the verified ID token.
//
// Token holds secrets (the access, refresh and ID tokens): store it as one.
// Result's String, GoString, Format and LogValue show the subject, issuer
// and expiry only.
type Result struct {
	// Token is the token response: AccessToken, TokenType ("Bearer"),
	// RefreshToken (empty when none was issued), Expiry (zero when the
	// server gave no expires_in), and every member through Token.Extra,
	// the raw ID token as Extra("id_token").
	Token *oauth2.Token
	// IDToken is the verified ID token.
	IDToken *provider.IDToken
}

// Callback completes a login started by [Client.AuthCodeURL]: tx is the
// transaction kept in the session, query the query of the request to the
// redirect URI (r.URL.Query()). It checks, in order, that tx belongs to
// this client's issuer and is at most Config.TransactionMaxAge old (and not
// made more than a minute in the future), that no
// parameter is repeated, that state matches (constant time), that iss
// matches the issuer (RFC 9207; required when the provider advertises
// authorization_response_iss_parameter_supported); then returns an error
// response as an *[AuthorizationError]; then redeems the code with the PKCE
// verifier and a fresh client assertion (one POST, never retried, never
// redirected); then verifies the ID token with the transaction's nonce,
// at_hash against the access token and auth_time against a requested
// max_age.
//
// Errors: ErrInvalidTransaction (also for an expired transaction),
// ErrStateMismatch (also for a malformed callback query), ErrIssuerMismatch
// (also for a missing iss), *AuthorizationError; then those of the token
// request (*TokenError, ErrMalformedResponse, an assertion error, a context
// or network error; ErrMalformedResponse also when the answer has no
// id_token); and the provider package's ID token errors
// (provider.ErrNonceMismatch, provider.ErrInvalidSignature, …). None
// carries the code, the verifier, the assertion or a token.
func (c *Client) Callback(ctx context.Context, tx Transaction, query url.Values) (*Result, error) {
	code, err := c.callbackCode(tx, query)
	if err != nil {
		return nil, err
	}
	r, err := c.exchangeCode(ctx, tx, code)
	if err != nil {
		return nil, err
	}
	id, err := c.verifier.Verify(ctx, r.idToken, provider.Expected{
		Nonce:       tx.Nonce,
		AccessToken: r.token.AccessToken,
		MaxAge:      tx.MaxAge,
	})
	if err != nil {
		return nil, fmt.Errorf("exchange: id token of the login: %w", err)
	}
	return &Result{Token: r.token, IDToken: id}, nil
}

// String describes the result without any token.
func (r *Result) String() string {
	if r == nil {
		return "exchange.Result(nil)"
	}
	s := "exchange.Result{"
	if r.IDToken != nil {
		s += fmt.Sprintf("Issuer: %q, Subject: %q, ", r.IDToken.Issuer, r.IDToken.Subject)
	}
	if r.Token != nil && !r.Token.Expiry.IsZero() {
		s += "Expiry: " + r.Token.Expiry.UTC().Format(time.RFC3339) + ", "
	}
	return s + "Token: [redacted]}"
}

// GoString returns the same redacted description as String.
func (r *Result) GoString() string { return r.String() }

// Format writes the redacted description for every verb.
func (r *Result) Format(f fmt.State, _ rune) { fmt.Fprint(f, r.String()) }

// LogValue returns the issuer, subject and expiry only.
func (r *Result) LogValue() slog.Value {
	if r == nil {
		return slog.StringValue("<nil>")
	}
	var attrs []slog.Attr
	if r.IDToken != nil {
		attrs = append(attrs, slog.String("issuer", r.IDToken.Issuer), slog.String("sub", r.IDToken.Subject))
	}
	if r.Token != nil && !r.Token.Expiry.IsZero() {
		attrs = append(attrs, slog.Time("expiry", r.Token.Expiry))
	}
	return slog.GroupValue(attrs...)
}

var (
	_ fmt.Formatter  = (*Result)(nil)
	_ slog.LogValuer = (*Result)(nil)
)
