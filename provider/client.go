package provider

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults of [Config].
const (
	// DefaultTimeout is the Timeout given to the provider's HTTP client when
	// Config.HTTPClient is nil or has no Timeout.
	DefaultTimeout = 10 * time.Second
	// DefaultMaxBodyBytes is the default Config.MaxBodyBytes.
	DefaultMaxBodyBytes = 1 << 20
	// maxRedirects bounds the redirects the provider's client follows.
	maxRedirects = 5
)

// boundedClient returns a copy of base (or a new client) with a finite
// timeout, a redirect policy that stays on the original origin, and a
// transport whose response bodies fail with ErrBodyTooLarge past limit.
func boundedClient(base *http.Client, limit int64) *http.Client {
	c := &http.Client{}
	if base != nil {
		*c = *base
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	rt := c.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	c.Transport = &limitTransport{base: rt, limit: limit}
	user := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := sameOriginRedirect(req, via); err != nil {
			return err
		}
		if user != nil {
			return user(req, via)
		}
		return nil
	}
	return c
}

// errRedirect is the cause of a refused redirect; the client wraps it in a
// *url.Error.
var errRedirect = errors.New("provider: redirect refused")

// sameOriginRedirect follows at most five redirects, each to the origin
// (scheme, host and port) of the first request; so never from https to
// http and never to another host.
func sameOriginRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("provider: more than %d redirects: %w", maxRedirects, errRedirect)
	}
	o := via[0].URL
	if req.URL.Scheme != o.Scheme || !strings.EqualFold(req.URL.Host, o.Host) {
		return fmt.Errorf("provider: redirect from %s://%s to another origin %s://%s: %w", o.Scheme, o.Host, req.URL.Scheme, short(req.URL.Host), errRedirect)
	}
	return nil
}

// limitTransport bounds every response body it returns.
type limitTransport struct {
	base  http.RoundTripper
	limit int64
}

// RoundTrip sends req with the base transport and bounds the response body.
func (t *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	resp.Body = &limitBody{rc: resp.Body, left: t.limit}
	return resp, nil
}

// limitBody fails with ErrBodyTooLarge once more than its limit is read.
type limitBody struct {
	rc   io.ReadCloser
	left int64
}

// Read reads up to the limit, then fails with ErrBodyTooLarge.
func (b *limitBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, ErrBodyTooLarge
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n - 1, fmt.Errorf("provider: response body exceeds the client's limit: %w", ErrBodyTooLarge)
	}
	return n, err
}

// Close closes the underlying body.
func (b *limitBody) Close() error { return b.rc.Close() }

// checkURL reports whether raw is an absolute https URL, or (when
// allowHTTP) plain http on a loopback host, without a fragment or user
// information.
func checkURL(what, raw string, allowHTTP bool) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("provider: %s %q is not an absolute URL: %w", what, short(raw), ErrInsecureURL)
	}
	if u.User != nil || u.Fragment != "" || strings.Contains(raw, "#") {
		return fmt.Errorf("provider: %s %q has user information or a fragment: %w", what, short(raw), ErrInsecureURL)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowHTTP && isLoopback(u.Hostname()):
	default:
		return fmt.Errorf("provider: %s %q must use https (plain http only on loopback hosts, and for endpoints only when the issuer is plain http too): %w", what, short(raw), ErrInsecureURL)
	}
	return nil
}

// isLoopback reports whether host is localhost or a loopback IP address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
