package interop_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"
)

// maxRedirects bounds the hops between the authorization endpoint, the
// interaction endpoints and the redirect URI (about six in a first login).
const maxRedirects = 20

// authorize plays the user agent for one login: it GETs the authorization
// URL, follows the provider's redirects through server.mjs's interaction
// endpoints (which log the user in and consent without a person) keeping the
// provider's cookies in a fresh jar, and stops at the redirect to
// redirectURI, whose URL it returns with the query the client receives.
func authorize(ctx context.Context, authURL string) (*url.URL, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	c := &http.Client{
		Jar:     jar,
		Timeout: 10 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if strings.HasPrefix(req.URL.String(), redirectURI) {
				return http.ErrUseLastResponse
			}
			if len(via) >= maxRedirects {
				return fmt.Errorf("more than %d redirects", maxRedirects)
			}
			return nil
		},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 300 || resp.StatusCode > 399 {
		// server.mjs renders errors as JSON: error and error_description,
		// no secrets.
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		return nil, fmt.Errorf("authorize: %s %s: status %d, want a redirect to the client: %s", resp.Request.Method, resp.Request.URL.Redacted(), resp.StatusCode, body)
	}
	loc, err := resp.Location()
	if err != nil {
		return nil, fmt.Errorf("authorize: redirect without a Location: %v", err)
	}
	if !strings.HasPrefix(loc.String(), redirectURI) {
		return nil, fmt.Errorf("authorize: redirect to %s, want %s", loc.Redacted(), redirectURI)
	}
	return loc, nil
}
