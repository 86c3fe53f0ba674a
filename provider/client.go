package provider

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pkjwt/pkjwt/internal/httppolicy"
	"github.com/pkjwt/pkjwt/internal/httpread"
)

// Defaults of [Config].
const (
	// defaultTimeout is the Timeout given to the provider's HTTP client when
	// Config.HTTPClient is nil or has no Timeout.
	defaultTimeout = 10 * time.Second
	// defaultMaxBodyBytes is the default Config.MaxBodyBytes.
	defaultMaxBodyBytes = 1 << 20
	// maxRedirects bounds the redirects the provider's client follows.
	maxRedirects = 5
)

// sharedClient returns a copy of base (or a new client) with a finite
// timeout and a redirect policy that stays on the original origin (then
// base's own rule, if any).
func sharedClient(base *http.Client) *http.Client {
	c := httppolicy.Copy(base, defaultTimeout)
	c.CheckRedirect = httppolicy.Both(httppolicy.SameOrigin(maxRedirects), c.CheckRedirect)
	return c
}

// boundedClient returns a copy of shared whose response bodies fail with
// errBodyLimit past limit.
func boundedClient(shared *http.Client, limit int64) *http.Client {
	c := *shared
	c.Transport = httppolicy.LimitBodies(c.Transport, limit, errBodyLimit)
	return &c
}

// errRedirect is the cause of a refused redirect; the client wraps it in a
// *url.Error. The redirect rule follows at most five redirects, each to the
// origin (scheme, host and port) of the first request; so never from https
// to http and never to another host.
var errRedirect = httppolicy.ErrRedirect

// errBodyLimit is the error of a read past the client's body limit. It
// wraps httpread.ErrTooLarge, so that a reader of the provider's client
// (discovery here, the key-set fetch in jwks) recognises it.
var errBodyLimit = fmt.Errorf("provider: response body exceeds the client's limit: %w", httpread.ErrTooLarge)

// checkURL reports whether raw is an absolute https URL, or (when
// allowHTTP) plain http on a loopback host, without a fragment or user
// information. A refusal wraps cause (errInsecureIssuer or
// errInsecureEndpoint).
func checkURL(what, raw string, allowHTTP bool, cause error) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("provider: %s %q is not an absolute URL: %w", what, short(raw), cause)
	}
	if u.User != nil || u.Fragment != "" || strings.Contains(raw, "#") {
		return fmt.Errorf("provider: %s %q has user information or a fragment: %w", what, short(raw), cause)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowHTTP && isLoopback(u.Hostname()):
	default:
		return fmt.Errorf("provider: %s %q must use https (plain http only on loopback hosts, and for endpoints only when the issuer is plain http too): %w", what, short(raw), cause)
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
