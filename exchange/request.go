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
	what     string       // "token" when empty, "pushed authorization" for PAR
}

// post sends form to the token endpoint once and parses the answer. It never
// retries: a retry, if the caller wants one, goes through a fresh call that
// mints a fresh assertion. secrets are the values of form that must never
// appear in an error.
func (e *endpoint) post(ctx context.Context, form url.Values, secrets []string) (*tokenResponse, error) {
	status, _, body, err := e.do(ctx, form, nil)
	if err != nil {
		return nil, err
	}
	return parseTokenResponse(status, body, e.now(), secrets)
}

// do sends form, with the extra headers hdr (a DPoP proof), to the endpoint
// once, and returns the status, headers and bounded body of the answer.
func (e *endpoint) do(ctx context.Context, form url.Values, hdr http.Header) (int, http.Header, []byte, error) {
	what := e.what
	if what == "" {
		what = "token"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("exchange: build %s request: %v", what, err)
	}
	for k, v := range hdr {
		req.Header[k] = v
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
		e.logger.LogAttrs(ctx, slog.LevelDebug, "exchange: "+what+" request",
			slog.String("grant_type", form.Get("grant_type")), slog.Int("status", status),
			slog.Duration("duration", time.Since(start)))
	}
	if err != nil {
		return 0, nil, nil, fmt.Errorf("exchange: %s request to %s: %w", what, redactURL(e.url), err)
	}
	defer resp.Body.Close()
	body, err := httpread.All(resp.Body, e.maxBytes)
	if err != nil {
		if errors.Is(err, httpread.ErrTooLarge) {
			return 0, nil, nil, fmt.Errorf("exchange: %s endpoint %s answered status %d with a body over %d bytes: %w: %w", what, redactURL(e.url), resp.StatusCode, e.maxBytes, ErrMalformedResponse, err)
		}
		return 0, nil, nil, fmt.Errorf("exchange: read %s response from %s: %w", what, redactURL(e.url), err)
	}
	return resp.StatusCode, resp.Header, body, nil
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
