package exchange

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pkjwt/pkjwt/internal/httppolicy"
	"github.com/pkjwt/pkjwt/internal/httpread"
)

// Defaults for the token endpoint client.
const (
	// defaultTimeout bounds a token request when neither the context nor the
	// configured [http.Client] sets a shorter limit.
	defaultTimeout = 30 * time.Second
	// defaultMaxResponseBytes is the default limit on a token endpoint's
	// body: 1 MiB. A longer body is ErrMalformedResponse, never truncated.
	defaultMaxResponseBytes = 1 << 20
)

// The client assertion type of RFC 7523 §2.2.
const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// tokenHTTPClient returns the client used for token requests: a copy of hc
// (or of the package default when hc is nil, never http.DefaultClient) that
// never follows redirects and has a finite timeout.
func tokenHTTPClient(hc *http.Client) *http.Client {
	c := httppolicy.Copy(hc, defaultTimeout)
	c.CheckRedirect = httppolicy.Refuse
	return c
}

// endpoint is a token endpoint and the way to reach it.
type endpoint struct {
	url      string
	hc       *http.Client
	maxBytes int64
	now      func() time.Time
	logger   *slog.Logger // nil: no records
}

// post sends form to the token endpoint once and parses the answer. It never
// retries: a retry, if the caller wants one, goes through a fresh call that
// mints a fresh assertion. secrets are the values of form that must never
// appear in an error.
func (e *endpoint) post(ctx context.Context, form url.Values, secrets []string) (*tokenResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("exchange: build token request: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	// Exactly one client authentication method: the assertion in the body,
	// so no Authorization header is ever set here.
	start := time.Now()
	resp, err := e.hc.Do(req)
	if e.logger != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		e.logger.LogAttrs(ctx, slog.LevelDebug, "exchange: token request",
			slog.String("grant_type", form.Get("grant_type")), slog.Int("status", status),
			slog.Duration("duration", time.Since(start)))
	}
	if err != nil {
		return nil, fmt.Errorf("exchange: token request to %s: %w", redactURL(e.url), err)
	}
	defer resp.Body.Close()
	body, err := httpread.All(resp.Body, e.maxBytes)
	if err != nil {
		if errors.Is(err, httpread.ErrTooLarge) {
			return nil, fmt.Errorf("exchange: token endpoint %s answered status %d with a body over %d bytes: %w: %w", redactURL(e.url), resp.StatusCode, e.maxBytes, ErrMalformedResponse, err)
		}
		return nil, fmt.Errorf("exchange: read token response from %s: %w", redactURL(e.url), err)
	}
	return parseTokenResponse(resp.StatusCode, body, e.now(), secrets)
}

// redactURL renders u without userinfo, query or fragment.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User, u.RawQuery, u.Fragment, u.RawFragment, u.ForceQuery = nil, "", "", "", false
	return u.String()
}
