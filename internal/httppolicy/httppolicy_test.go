package httppolicy

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pkjwt/pkjwt/internal/httpread"
)

func TestNew(t *testing.T) {
	t.Parallel()
	c := New(5*time.Second, Refuse)
	if c == http.DefaultClient || c.Timeout != 5*time.Second || c.CheckRedirect == nil {
		t.Errorf("New(5s, Refuse) = %+v", c)
	}
	if c := New(0, nil); c.Timeout <= 0 {
		t.Errorf("New(0, nil).Timeout = %v, want a finite timeout", c.Timeout)
	}
}

func TestCopy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		base *http.Client
		want time.Duration
	}{
		{"nil", nil, 7 * time.Second},
		{"no timeout", &http.Client{}, 7 * time.Second},
		{"negative timeout", &http.Client{Timeout: -1}, 7 * time.Second},
		{"own timeout", &http.Client{Timeout: time.Second}, time.Second},
	}
	for _, tc := range tests {
		var before http.Client
		if tc.base != nil {
			before = *tc.base
		}
		c := Copy(tc.base, 7*time.Second)
		if c == tc.base || c == http.DefaultClient {
			t.Errorf("Copy(%s) returned the base client itself", tc.name)
		}
		if c.Timeout != tc.want {
			t.Errorf("Copy(%s).Timeout = %v, want %v", tc.name, c.Timeout, tc.want)
		}
		if tc.base != nil && tc.base.Timeout != before.Timeout {
			t.Errorf("Copy(%s) modified the base client", tc.name)
		}
	}
}

func req(t *testing.T, raw string) *http.Request {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Request{URL: u}
}

func TestSameOrigin(t *testing.T) {
	t.Parallel()
	first := req(t, "https://idp.example/a")
	tests := []struct {
		name string
		to   string
		hops int // redirects already followed
		ok   bool
	}{
		{"same origin", "https://idp.example/b", 1, true},
		{"host in another case", "https://IDP.example/b", 1, true},
		{"https to http", "http://idp.example/b", 1, false},
		{"other host", "https://attacker.example/b", 1, false},
		{"other port", "https://idp.example:8443/b", 1, false},
		{"last allowed", "https://idp.example/b", 2, true},
		{"one too many", "https://idp.example/b", 3, false},
	}
	rule := SameOrigin(3)
	for _, tc := range tests {
		via := make([]*http.Request, tc.hops)
		for i := range via {
			via[i] = first
		}
		err := rule(req(t, tc.to), via)
		if tc.ok && err != nil || !tc.ok && !errors.Is(err, ErrRedirect) {
			t.Errorf("SameOrigin(3)(%s) error = %v, want ok = %v", tc.name, err, tc.ok)
		}
	}
}

// TestRedirectRulesOnLoopback runs the rules in a real client.
func TestRedirectRulesOnLoopback(t *testing.T) {
	t.Parallel()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "other") }))
	defer other.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.Handle("/same", http.RedirectHandler("/ok", http.StatusFound))
	mux.Handle("/cross", http.RedirectHandler(other.URL+"/ok", http.StatusFound))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	tests := []struct {
		name       string
		rule       RedirectRule
		path       string
		wantErr    error
		wantStatus int
	}{
		{"same origin followed", SameOrigin(3), "/same", nil, http.StatusOK},
		{"cross origin refused", SameOrigin(3), "/cross", ErrRedirect, 0},
		{"refuse returns the 3xx", Refuse, "/same", nil, http.StatusFound},
		{"refuse, cross origin", Refuse, "/cross", nil, http.StatusFound},
	}
	for _, tc := range tests {
		c := New(5*time.Second, tc.rule)
		resp, err := c.Get(srv.URL + tc.path)
		if tc.wantErr != nil {
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("Get(%s) error = %v, want %v", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("Get(%s) error = %v", tc.name, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != tc.wantStatus {
			t.Errorf("Get(%s) status = %d, want %d", tc.name, resp.StatusCode, tc.wantStatus)
		}
	}
}

func TestBoth(t *testing.T) {
	t.Parallel()
	errA, errB := errors.New("a"), errors.New("b")
	allow := func(*http.Request, []*http.Request) error { return nil }
	deny := func(e error) RedirectRule { return func(*http.Request, []*http.Request) error { return e } }
	tests := []struct {
		name          string
		first, second RedirectRule
		want          error
	}{
		{"first refuses", deny(errA), deny(errB), errA},
		{"second refuses", allow, deny(errB), errB},
		{"both allow", allow, allow, nil},
		{"no second", deny(errA), nil, errA},
	}
	for _, tc := range tests {
		if err := Both(tc.first, tc.second)(nil, nil); err != tc.want {
			t.Errorf("Both(%s) = %v, want %v", tc.name, err, tc.want)
		}
	}
}

// bodyRT answers every request with body.
type bodyRT struct {
	body   string
	closed bool
}

func (rt *bodyRT) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Body: &closeRecorder{Reader: strings.NewReader(rt.body), rt: rt}, Request: req}, nil
}

type closeRecorder struct {
	io.Reader
	rt *bodyRT
}

func (c *closeRecorder) Close() error { c.rt.closed = true; return nil }

func TestLimitBodies(t *testing.T) {
	t.Parallel()
	mine := errors.New("mine: too large")
	tests := []struct {
		name     string
		body     string
		limit    int64
		tooLarge error
		wantErr  error
	}{
		{"under", "hello", 10, mine, nil},
		{"exactly", "hello", 5, mine, nil},
		{"one over", "hello!", 5, mine, mine},
		{"far over", strings.Repeat("x", 1<<20), 1024, mine, mine},
		{"default error", "hello!", 5, nil, httpread.ErrTooLarge},
		{"zero limit", "x", 0, nil, httpread.ErrTooLarge},
	}
	for _, tc := range tests {
		rt := &bodyRT{body: tc.body}
		c := &http.Client{Transport: LimitBodies(rt, tc.limit, tc.tooLarge)}
		resp, err := c.Get("http://127.0.0.1/x")
		if err != nil {
			t.Fatalf("Get(%s): %v", tc.name, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !errors.Is(err, tc.wantErr) || tc.wantErr == nil && err != nil {
			t.Errorf("read(%s) error = %v, want %v", tc.name, err, tc.wantErr)
		}
		if int64(len(b)) > tc.limit {
			t.Errorf("read(%s) returned %d bytes past the limit of %d", tc.name, len(b), tc.limit)
		}
		if tc.wantErr == nil && string(b) != tc.body {
			t.Errorf("read(%s) = %q, want %q", tc.name, b, tc.body)
		}
		if !rt.closed {
			t.Errorf("read(%s): Close did not reach the underlying body", tc.name)
		}
	}
}

func TestLimitBodiesTransportError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	rt := LimitBodies(roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, boom }), 10, nil)
	if _, err := rt.RoundTrip(req(t, "http://127.0.0.1/")); !errors.Is(err, boom) {
		t.Errorf("RoundTrip error = %v, want %v", err, boom)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
