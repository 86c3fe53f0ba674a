// Package httppolicy is the module's one policy for outgoing HTTP requests:
// a client with a finite timeout (never [http.DefaultClient]), a redirect
// rule chosen per use (same origin only, or none), and response bodies
// bounded by a limit that is an error when exceeded, never a silent
// truncation. Bodies read whole go through internal/httpread.
package httppolicy

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/pkjwt/pkjwt/internal/httpread"
)

// RedirectRule is the type of [http.Client.CheckRedirect].
type RedirectRule = func(req *http.Request, via []*http.Request) error

// ErrRedirect is wrapped by the errors of the rules of [SameOrigin]. The
// [http.Client] returns them wrapped in a *url.Error, so errors.Is finds it.
var ErrRedirect = errors.New("redirect refused")

// New returns a new client with the default transport, the given timeout
// and redirect rule (nil: net/http's default rule). A timeout of zero or
// less is replaced by one minute, so the client is never unbounded.
func New(timeout time.Duration, rule RedirectRule) *http.Client {
	if timeout <= 0 {
		timeout = time.Minute
	}
	return &http.Client{Timeout: timeout, CheckRedirect: rule}
}

// Copy returns a shallow copy of base, or a new empty client when base is
// nil (never [http.DefaultClient] itself), whose Timeout is timeout when
// base has none (zero or negative). base itself is never modified, so the
// caller may set the copy's CheckRedirect and Transport.
func Copy(base *http.Client, timeout time.Duration) *http.Client {
	c := &http.Client{}
	if base != nil {
		*c = *base
	}
	if c.Timeout <= 0 {
		c.Timeout = timeout
	}
	return c
}

// SameOrigin returns a redirect rule that follows at most max redirects,
// each to the origin (scheme, host and port; the host compared without
// regard to case) of the first request: never from https to http, never to
// another host. Its errors wrap [ErrRedirect].
func SameOrigin(max int) RedirectRule {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) >= max {
			return fmt.Errorf("more than %d redirects: %w", max, ErrRedirect)
		}
		o := via[0].URL
		if req.URL.Scheme != o.Scheme || !strings.EqualFold(req.URL.Host, o.Host) {
			return fmt.Errorf("redirect from %s://%s to another origin %s://%s: %w", o.Scheme, short(o.Host), short(req.URL.Scheme), short(req.URL.Host), ErrRedirect)
		}
		return nil
	}
}

// Refuse is a redirect rule that follows no redirect: the client returns
// the 3xx response itself ([http.ErrUseLastResponse]), for the caller to
// treat as it must (a token endpoint that redirects is an error, and the
// request is never re-sent elsewhere).
func Refuse(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Both returns a rule that applies first and then, when first allows the
// redirect, second. A nil second means first alone.
func Both(first, second RedirectRule) RedirectRule {
	if second == nil {
		return first
	}
	return func(req *http.Request, via []*http.Request) error {
		if err := first(req, via); err != nil {
			return err
		}
		return second(req, via)
	}
}

// LimitBodies returns a transport that sends each request with base (nil:
// [http.DefaultTransport]) and bounds each response body to limit bytes:
// at most limit bytes are returned, and a read past them fails with
// tooLarge (nil: a *[httpread.TooLargeError]).
func LimitBodies(base http.RoundTripper, limit int64, tooLarge error) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if tooLarge == nil {
		tooLarge = &httpread.TooLargeError{Limit: max(limit, 0)}
	}
	return &limitTransport{base: base, limit: max(limit, 0), err: tooLarge}
}

// limitTransport bounds every response body it returns.
type limitTransport struct {
	base  http.RoundTripper
	limit int64
	err   error
}

// RoundTrip sends req with the base transport and bounds the response body.
func (t *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	resp.Body = &limitBody{rc: resp.Body, left: t.limit, err: t.err}
	return resp, nil
}

// limitBody fails with err once more than its limit is read.
type limitBody struct {
	rc   io.ReadCloser
	left int64
	err  error
}

// Read reads up to the limit, then fails.
func (b *limitBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, b.err
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n - 1, b.err
	}
	return n, err
}

// Close closes the underlying body.
func (b *limitBody) Close() error { return b.rc.Close() }

// short bounds an untrusted string for an error message.
func short(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
