package exchange

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pkjwt/pkjwt/assertion"
	"github.com/pkjwt/pkjwt/internal/httpread"
)

// Introspection is an introspection endpoint's answer about a token (RFC
// 7662 §2.2). An inactive token (expired, revoked, unknown, or not this
// client's to ask about) has Active false and nothing else: that is a
// result, not an error.
type Introspection struct {
	// Active says whether the token is currently active.
	Active bool
	// Subject is sub, empty when absent.
	Subject string
	// ClientID is client_id, the client the token was issued to.
	ClientID string
	// Scope is scope, space-separated.
	Scope string
	// TokenType is token_type ("Bearer", "DPoP", …).
	TokenType string
	// Issuer is iss.
	Issuer string
	// Audience is aud (a string or an array in the answer).
	Audience []string
	// Expiry is exp, zero when absent.
	Expiry time.Time
	// IssuedAt is iat, zero when absent.
	IssuedAt time.Time
	// Raw holds every member of the answer, for the ones above and any
	// other (username, jti, cnf, …).
	Raw map[string]any
}

// Revoke asks the provider to revoke token (RFC 7009 §2.1): a refresh
// token (which revokes its grant's access tokens too at most providers)
// or an access token. tokenTypeHint is "refresh_token", "access_token" or
// "" for none. The client authenticates with a fresh assertion; one POST,
// no retry, no redirect followed. Revoking an unknown or already revoked
// token succeeds (§2.2).
//
// Errors: ErrInvalidConfig (the provider has no revocation_endpoint, or
// token is empty), a *[TokenError] (errors.Is ErrInvalidClient, …; status
// 503 when the provider asks to retry later, §2.2.1; code
// "unsupported_token_type" for a token type it cannot revoke),
// ErrMalformedResponse (a redirect, a body over Config.MaxResponseBytes), an
// assertion error, or a context or network error.
func (c *Client) Revoke(ctx context.Context, token, tokenTypeHint string) error {
	if c.revocationURL == "" {
		return fmt.Errorf("exchange: the provider advertises no revocation_endpoint: %w", ErrInvalidConfig)
	}
	if token == "" {
		return fmt.Errorf("exchange: Revoke without a token: %w", ErrInvalidConfig)
	}
	form := url.Values{"token": {token}}
	if tokenTypeHint != "" {
		form.Set("token_type_hint", tokenTypeHint)
	}
	_, err := c.postAuthenticated(ctx, "revocation", c.revocationURL, form, []string{token})
	return err
}

// Introspect asks the provider about token (RFC 7662 §2.1): whether it is
// active and, if so, its subject, client, scope, audience and times. The
// client authenticates with a fresh assertion; one POST, no retry, no
// redirect followed. An inactive token is an Introspection with Active
// false, not an error.
//
// Errors: ErrInvalidConfig (the provider has no introspection_endpoint, or
// token is empty), a *[TokenError] (errors.Is ErrInvalidClient, …),
// ErrMalformedResponse (a redirect, a body over Config.MaxResponseBytes, not
// one JSON object, a repeated member, active missing or not a boolean, a
// member of the wrong type), an assertion error, or a context or network
// error.
func (c *Client) Introspect(ctx context.Context, token string) (*Introspection, error) {
	if c.introspectionURL == "" {
		return nil, fmt.Errorf("exchange: the provider advertises no introspection_endpoint: %w", ErrInvalidConfig)
	}
	if token == "" {
		return nil, fmt.Errorf("exchange: Introspect without a token: %w", ErrInvalidConfig)
	}
	body, err := c.postAuthenticated(ctx, "introspection", c.introspectionURL, url.Values{"token": {token}}, []string{token})
	if err != nil {
		return nil, err
	}
	return parseIntrospection(body)
}

// parseIntrospection reads an RFC 7662 §2.2 answer.
func parseIntrospection(body []byte) (*Introspection, error) {
	var raw map[string]any
	if err := decodeObject(body, &raw); err != nil {
		return nil, fmt.Errorf("exchange: introspection response: %v: %w", err, ErrMalformedResponse)
	}
	bad := func(name, want string) error {
		return fmt.Errorf("exchange: introspection response member %s is a JSON %s, want %s: %w", name, jsonType(raw[name]), want, ErrMalformedResponse)
	}
	active, ok := raw["active"].(bool)
	if !ok {
		return nil, bad("active", "a boolean (RFC 7662 §2.2 requires it)")
	}
	in := &Introspection{Active: active, Raw: raw}
	if !active {
		return in, nil
	}
	for name, dst := range map[string]*string{"sub": &in.Subject, "client_id": &in.ClientID, "scope": &in.Scope, "token_type": &in.TokenType, "iss": &in.Issuer} {
		switch v := raw[name].(type) {
		case nil:
		case string:
			*dst = v
		default:
			return nil, bad(name, "a string")
		}
	}
	switch v := raw["aud"].(type) {
	case nil:
	case string:
		in.Audience = []string{v}
	case []any:
		for _, a := range v {
			s, ok := a.(string)
			if !ok {
				return nil, bad("aud", "a string or an array of strings")
			}
			in.Audience = append(in.Audience, s)
		}
	default:
		return nil, bad("aud", "a string or an array of strings")
	}
	for name, dst := range map[string]*time.Time{"exp": &in.Expiry, "iat": &in.IssuedAt} {
		switch v := raw[name].(type) {
		case nil:
		case float64:
			if v < 0 || v > 1<<40 || math.IsNaN(v) {
				return nil, bad(name, "a NumericDate in range")
			}
			sec, frac := math.Modf(v)
			*dst = time.Unix(int64(sec), int64(frac*1e9)).UTC()
		default:
			return nil, bad(name, "a number")
		}
	}
	return in, nil
}

// postAuthenticated sends form to an endpoint other than the token
// endpoint (revocation, introspection), authenticated by a fresh client
// assertion: one POST, no redirect followed, the body bounded. It returns
// the body of a 200 answer; any other status is a *TokenError (a 3xx
// ErrMalformedResponse). secrets are the values of form that must never
// appear in an error.
func (c *Client) postAuthenticated(ctx context.Context, what, endpointURL string, form url.Values, secrets []string) ([]byte, error) {
	a, err := c.clientAssertion(ctx)
	if err != nil {
		return nil, err
	}
	form.Set("client_id", c.clientID)
	form.Set("client_assertion_type", assertion.ClientAssertionType)
	form.Set("client_assertion", a)
	secrets = append(secrets, a)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpointURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("exchange: build %s request: %v", what, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	start := time.Now()
	resp, err := c.ep.hc.Do(req)
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	c.logger.LogAttrs(ctx, slog.LevelDebug, "exchange: "+what+" request",
		slog.Int("status", status), slog.Duration("duration", time.Since(start)))
	if err != nil {
		return nil, fmt.Errorf("exchange: %s request to %s: %w", what, redactURL(endpointURL), err)
	}
	defer resp.Body.Close()
	body, err := httpread.All(resp.Body, c.ep.maxBytes)
	if err != nil {
		if errors.Is(err, httpread.ErrTooLarge) {
			return nil, fmt.Errorf("exchange: %s endpoint answered status %d with a body over %d bytes: %w", what, resp.StatusCode, c.ep.maxBytes, ErrMalformedResponse)
		}
		return nil, fmt.Errorf("exchange: read %s response: %w", what, err)
	}
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return nil, fmt.Errorf("exchange: %s endpoint answered status %d, and redirects are never followed: %w", what, resp.StatusCode, errRedirect)
	case resp.StatusCode != http.StatusOK:
		return nil, resourceError(what, resp, body, secrets)
	}
	return body, nil
}
