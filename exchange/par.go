package exchange

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Bounds on a pushed authorization response (RFC 9126 §2.2).
const (
	// maxPARLifetime is the longest expires_in accepted: the RFC suggests
	// 5 to 600 seconds; a longer-lived request_uri is a longer replay
	// window if it leaks, and a sign of a misconfigured server.
	maxPARLifetime = 10 * time.Minute
	// maxRequestURILen bounds the request_uri put into the browser URL.
	maxRequestURILen = 2 << 10
)

// pushAuthorization POSTs the authorization parameters q to the PAR
// endpoint (RFC 9126 §2.1), authenticated like a token request, and
// returns the authorization endpoint URL u carrying only client_id and the
// request_uri issued. The answer's expires_in must be between one second
// and ten minutes.
func (c *Client) pushAuthorization(ctx context.Context, u *url.URL, q url.Values, tx Transaction) (string, Transaction, error) {
	form := make(url.Values, len(q)+3)
	for k, v := range q {
		form[k] = v
	}
	var uri string
	err := c.sendAuthenticated(ctx, &c.par, form, []string{tx.Verifier}, func(status int, body []byte, secrets []string) error {
		var err error
		uri, err = parsePARResponse(status, body, secrets)
		return err
	})
	if err != nil {
		return "", Transaction{}, err
	}
	bq := u.Query()
	bq.Set("client_id", c.clientID)
	bq.Set("request_uri", uri)
	u.RawQuery = bq.Encode()
	return u.String(), tx, nil
}

// parsePARResponse reads a PAR endpoint's answer: 201 (or 200) with a JSON
// object holding request_uri (a URN) and expires_in. A redirect, another
// success status or a bad member is ErrMalformedResponse; an error status
// or an error member is a *TokenError.
func parsePARResponse(status int, body []byte, secrets []string) (string, error) {
	switch {
	case status >= 300 && status < 400:
		return "", fmt.Errorf("exchange: the pushed authorization request endpoint answered status %d, and redirects are never followed: %w", status, errRedirect)
	case status < 200 || status >= 300:
		return "", errorResponse(status, body, secrets)
	}
	var raw map[string]any
	if err := decodeObject(body, &raw); err != nil {
		return "", fmt.Errorf("exchange: pushed authorization response (status %d): %s: %w", status, untrusted(err.Error(), maxDescriptionLen, secrets), errBadPARResponse)
	}
	if e, ok := raw["error"]; ok && e != nil {
		return "", tokenErrorFrom(status, raw, secrets)
	}
	if status != http.StatusCreated && status != http.StatusOK {
		return "", fmt.Errorf("exchange: the pushed authorization request endpoint answered status %d, want 201: %w", status, errBadPARResponse)
	}
	uri, ok := raw["request_uri"].(string)
	switch {
	case !ok || uri == "":
		return "", fmt.Errorf("exchange: the pushed authorization response has no request_uri string: %w", errBadPARResponse)
	case len(uri) > maxRequestURILen || len(uri) < 5 || !strings.EqualFold(uri[:4], "urn:") || strings.ContainsFunc(uri, func(r rune) bool { return r <= ' ' || r >= 0x7f }):
		return "", fmt.Errorf("exchange: the pushed authorization response's request_uri is not a URN of at most %d printable ASCII characters (RFC 9126 §2.2): %w", maxRequestURILen, errBadPARResponse)
	}
	secs, known, err := expiresIn(raw["expires_in"])
	switch {
	case err != nil:
		return "", fmt.Errorf("exchange: pushed authorization response: %v: %w", err, errBadPARResponse)
	case !known:
		return "", fmt.Errorf("exchange: the pushed authorization response has no expires_in (RFC 9126 §2.2 requires it): %w", errBadPARResponse)
	case secs < 1 || secs > int64(maxPARLifetime/time.Second):
		return "", fmt.Errorf("exchange: the pushed authorization response's expires_in %d is not between 1 and %d seconds: %w", secs, int64(maxPARLifetime/time.Second), errBadPARResponse)
	}
	return uri, nil
}
