package exchange

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkjwt/pkjwt/internal/httpread"
)

func testEndpoint(t *testing.T, h http.Handler, hc *http.Client) *endpoint {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &endpoint{url: srv.URL + "/token", hc: tokenHTTPClient(hc), maxBytes: defaultMaxResponseBytes, now: func() time.Time { return t0 }}
}

// TestPostRefusesRedirect: a 307/308 from the token endpoint would resend the
// code, verifier and assertion elsewhere. The redirect target must never be
// reached, and the answer is errRedirect.
func TestPostRefusesRedirect(t *testing.T) {
	t.Parallel()
	for _, status := range []int{301, 302, 303, 307, 308} {
		var elsewhere atomic.Int32
		other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			elsewhere.Add(1)
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"access_token":"a","token_type":"Bearer"}`)
		}))
		t.Cleanup(other.Close)
		// Even a caller's client that would follow redirects is overridden.
		follow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}
		e := testEndpoint(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/steal", status)
		}), follow)
		_, err := e.post(t.Context(), url.Values{"grant_type": {"client_credentials"}}, nil)
		if !errors.Is(err, errRedirect) {
			t.Errorf("post() with %d error = %v, want %v", status, err, errRedirect)
		}
		if n := elsewhere.Load(); n != 0 {
			t.Errorf("post() with %d reached the redirect target %d times", status, n)
		}
	}
}

// TestPostOversizeIsError: a body over the limit is an error, not a
// truncation that happens to parse.
func TestPostOversizeIsError(t *testing.T) {
	t.Parallel()
	e := testEndpoint(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"access_token":"a","token_type":"Bearer"}`+strings.Repeat(" ", 200))
	}), nil)
	e.maxBytes = 100
	_, err := e.post(t.Context(), url.Values{}, nil)
	if !errors.Is(err, ErrMalformedResponse) || !errors.Is(err, httpread.ErrTooLarge) {
		t.Errorf("post() error = %v, want %v and %v", err, ErrMalformedResponse, httpread.ErrTooLarge)
	}
	e.maxBytes = 1000
	if _, err := e.post(t.Context(), url.Values{}, nil); err != nil {
		t.Errorf("post() under the limit error = %v", err)
	}
}

// TestPostRequestShape: a POST of a form, with no Authorization header (the
// assertion in the body is the only client authentication).
func TestPostRequestShape(t *testing.T) {
	t.Parallel()
	e := testEndpoint(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			t.Errorf("method = %s, want POST", r.Method)
		}
		if h := r.Header.Get("Authorization"); h != "" {
			t.Errorf("Authorization header = %q, want none", h)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
			t.Errorf("Content-Type = %q", ct)
		}
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		if r.PostForm.Get("grant_type") != "client_credentials" {
			t.Errorf("form = %v", r.PostForm)
		}
		io.WriteString(w, `{"access_token":"a","token_type":"Bearer"}`)
	}), nil)
	if _, err := e.post(t.Context(), url.Values{"grant_type": {"client_credentials"}}, nil); err != nil {
		t.Fatal(err)
	}
}

func TestTokenHTTPClient(t *testing.T) {
	t.Parallel()
	c := tokenHTTPClient(nil)
	if c == http.DefaultClient {
		t.Fatal("tokenHTTPClient(nil) = http.DefaultClient")
	}
	if c.Timeout != defaultTimeout {
		t.Errorf("Timeout = %v, want %v", c.Timeout, defaultTimeout)
	}
	if c.CheckRedirect == nil {
		t.Error("CheckRedirect = nil, want refuse")
	}
	mine := &http.Client{Timeout: time.Second}
	c = tokenHTTPClient(mine)
	if c == mine || mine.CheckRedirect != nil {
		t.Error("tokenHTTPClient modified the caller's client")
	}
	if c.Timeout != time.Second {
		t.Errorf("Timeout = %v, want the caller's 1s", c.Timeout)
	}
	if c := tokenHTTPClient(&http.Client{}); c.Timeout != defaultTimeout {
		t.Errorf("Timeout of a client without one = %v, want %v", c.Timeout, defaultTimeout)
	}
}

func TestPostContextCanceled(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	e := testEndpoint(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}), nil)
	defer close(release)
	ctx, cancel := contextWithCancel(t)
	cancel()
	_, err := e.post(ctx, url.Values{}, nil)
	if err == nil || !errors.Is(err, ctx.Err()) {
		t.Errorf("post() with canceled ctx error = %v, want %v", err, ctx.Err())
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	if got := redactURL("https://user:pw@op.example/token?x=1#f"); got != "https://op.example/token" {
		t.Errorf("redactURL = %q", got)
	}
}
