package exchange_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/pkjwt/pkjwt/exchange"
	"github.com/pkjwt/pkjwt/provider"
	"github.com/pkjwt/pkjwt/provider/providertest"
)

const postLogoutURL = "https://rp.example/logged-out"

func TestEndSession(t *testing.T) {
	t.Parallel()
	e := rpSetup(t, providertest.Config{}, func(c *providertest.Client) { c.PostLogoutRedirectURIs = []string{postLogoutURL} }, nil)
	res, err := e.login(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	idToken, _ := res.Token.Extra("id_token").(string)
	endURL, state, err := e.c.EndSessionURL(idToken, postLogoutURL)
	if err != nil {
		t.Fatal(err)
	}
	if len(state) < 43 {
		t.Errorf("state %q has fewer than 256 bits", state)
	}
	u, _ := url.Parse(endURL)
	q := u.Query()
	if q.Get("client_id") != clientID || q.Get("id_token_hint") != idToken || q.Get("post_logout_redirect_uri") != postLogoutURL || q.Get("state") != state {
		t.Errorf("EndSessionURL query = %v", q)
	}
	back, err := e.op.EndSession(t.Context(), endURL)
	if err != nil {
		t.Fatal(err)
	}
	if !e.op.SessionEnded(res.IDToken.SessionID) {
		t.Error("the provider did not end the session")
	}
	if err := e.c.EndSessionCallback(back.Query(), state); err != nil {
		t.Errorf("EndSessionCallback(the provider's redirect) = %v", err)
	}
	_, state2, _ := e.c.EndSessionURL(idToken, postLogoutURL)
	if state2 == state {
		t.Error("two EndSessionURL calls returned the same state")
	}
	for name, tc := range map[string]struct {
		q     url.Values
		state string
	}{
		"other state":    {url.Values{"state": {state2}}, state},
		"no state":       {url.Values{}, state},
		"repeated state": {url.Values{"state": {state, state}}, state},
		"nothing kept":   {url.Values{"state": {""}}, ""},
	} {
		if err := e.c.EndSessionCallback(tc.q, tc.state); !errors.Is(err, exchange.ErrStateMismatch) {
			t.Errorf("EndSessionCallback(%s) = %v, want ErrStateMismatch", name, err)
		}
	}
	if _, _, err := e.c.EndSessionURL(idToken, "/relative"); !errors.Is(err, exchange.ErrInvalidConfig) {
		t.Errorf("EndSessionURL(relative redirect) error = %v, want ErrInvalidConfig", err)
	}
	if u, st, err := e.c.EndSessionURL("", ""); err != nil || st != "" || strings.Contains(u, "state=") {
		t.Errorf("EndSessionURL without redirect = %q, %q, %v", u, st, err)
	}
	// A provider without end_session_endpoint.
	if _, _, err := newUserInfoClient(t, "http://127.0.0.1:1").EndSessionURL(idToken, postLogoutURL); !errors.Is(err, exchange.ErrInvalidConfig) {
		t.Errorf("EndSessionURL without end_session_endpoint error = %v, want ErrInvalidConfig", err)
	}
}

// rpReceiver serves a client's back-channel logout URI and records the
// tokens its end function receives.
type rpReceiver struct {
	srv *httptest.Server
	// guards h, ended, fail
	mu    sync.Mutex
	h     http.Handler
	ended []provider.LogoutToken
	fail  error
}

func newReceiver(t *testing.T) *rpReceiver {
	r := &rpReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		h := r.h
		r.mu.Unlock()
		h.ServeHTTP(w, req)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *rpReceiver) end(_ context.Context, lt *provider.LogoutToken) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.ended = append(r.ended, *lt)
	return nil
}

func TestBackchannelLogout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		m      providertest.Misbehavior
		fail   error
		status int
	}{
		{name: "valid", status: 200},
		{name: "nonce", m: providertest.LogoutTokenNonce, status: 400},
		{name: "no events", m: providertest.LogoutTokenNoEvents, status: 400},
		{name: "wrong typ", m: providertest.LogoutTokenWrongTyp, status: 400},
		{name: "replayed jti", m: providertest.LogoutTokenReplay, status: 400},
		{name: "end fails", fail: errors.New("store down"), status: 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rcv := newReceiver(t)
			e := rpSetup(t, providertest.Config{}, func(c *providertest.Client) { c.BackchannelLogoutURI = rcv.srv.URL + "/bcl" }, nil)
			rcv.mu.Lock()
			rcv.h, rcv.fail = e.c.BackchannelLogoutHandler(rcv.end), tc.fail
			rcv.mu.Unlock()
			l := providertest.Logout{Subject: "248289761001", SessionID: "sid-1"}
			if tc.m == providertest.LogoutTokenReplay {
				if st, _, err := e.op.SendLogoutToken(t.Context(), clientID, l); err != nil || st != 200 {
					t.Fatalf("first logout token: %d, %v", st, err)
				}
			}
			e.op.Misbehave(tc.m)
			st, body, err := e.op.SendLogoutToken(t.Context(), clientID, l)
			if err != nil {
				t.Fatal(err)
			}
			if st != tc.status {
				t.Fatalf("logout token (%s) answered %d %s, want %d", tc.name, st, body, tc.status)
			}
			rcv.mu.Lock()
			defer rcv.mu.Unlock()
			wantEnded := 0
			if tc.status == 200 || tc.m == providertest.LogoutTokenReplay {
				wantEnded = 1
			}
			if len(rcv.ended) != wantEnded {
				t.Fatalf("end called %d times, want %d", len(rcv.ended), wantEnded)
			}
			if tc.status == 200 {
				if got := rcv.ended[0]; got.Subject != l.Subject || got.SessionID != l.SessionID || got.ID == "" {
					t.Errorf("ended %+v", got)
				}
				return
			}
			var eb map[string]string
			if err := json.Unmarshal(body, &eb); err != nil || eb["error"] != "invalid_request" || eb["error_description"] == "" {
				t.Errorf("error body = %s", body)
			}
		})
	}
}

// TestBackchannelLogoutRequests: what the handler refuses before any token
// is verified, and the headers of every answer.
func TestBackchannelLogoutRequests(t *testing.T) {
	t.Parallel()
	e := rpSetup(t, providertest.Config{}, nil, nil)
	called := false
	h := e.c.BackchannelLogoutHandler(func(context.Context, *provider.LogoutToken) error { called = true; return nil })
	tests := []struct {
		name, method, ctype, body string
		status                    int
	}{
		{name: "GET", method: "GET", status: 405},
		{name: "JSON body", method: "POST", ctype: "application/json", body: `{"logout_token":"x"}`, status: 400},
		{name: "no token", method: "POST", ctype: "application/x-www-form-urlencoded", body: "a=b", status: 400},
		{name: "two tokens", method: "POST", ctype: "application/x-www-form-urlencoded", body: "logout_token=a&logout_token=b", status: 400},
		{name: "huge body", method: "POST", ctype: "application/x-www-form-urlencoded", body: "logout_token=" + strings.Repeat("a", 100<<10), status: 400},
		{name: "an ID token", method: "POST", ctype: "application/x-www-form-urlencoded", body: "logout_token=eyJhbGciOiJSUzI1NiJ9.e30.AAAA", status: 400},
	}
	for _, tc := range tests {
		req := httptest.NewRequest(tc.method, "/bcl", strings.NewReader(tc.body))
		if tc.ctype != "" {
			req.Header.Set("Content-Type", tc.ctype)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != tc.status || w.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("%s: status %d, Cache-Control %q; want %d, no-store", tc.name, w.Code, w.Header().Get("Cache-Control"), tc.status)
		}
	}
	if called {
		t.Error("end was called for a refused request")
	}
}

// TestBackchannelLogoutIDToken: the login's own ID token, POSTed as a
// logout token, is refused.
func TestBackchannelLogoutIDToken(t *testing.T) {
	t.Parallel()
	e := rpSetup(t, providertest.Config{}, nil, nil)
	res, err := e.login(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	called := false
	h := e.c.BackchannelLogoutHandler(func(context.Context, *provider.LogoutToken) error { called = true; return nil })
	for name, tok := range map[string]string{"id token": res.Token.Extra("id_token").(string), "access token": res.Token.AccessToken} {
		req := httptest.NewRequest("POST", "/bcl", strings.NewReader(url.Values{"logout_token": {tok}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 400 || called {
			t.Errorf("%s as a logout token: status %d, end called %v; want 400, not called", name, w.Code, called)
		}
	}
}

// TestBackchannelLogoutRedeliveryAfterEndFails: when end fails the answer
// is 400 and the token's jti is not spent, so the provider's redelivery of
// the same token ends the sessions (200); a third delivery is a replay.
func TestBackchannelLogoutRedeliveryAfterEndFails(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	e := rpSetup(t, providertest.Config{}, func(c *providertest.Client) { c.BackchannelLogoutURI = rcv.srv.URL + "/bcl" }, nil)
	rcv.mu.Lock()
	rcv.h = e.c.BackchannelLogoutHandler(rcv.end)
	rcv.mu.Unlock()
	l := providertest.Logout{Subject: "248289761001", SessionID: "sid-1"}
	for i, step := range []struct {
		fail   error
		status int
		ended  int
	}{
		{fail: errors.New("session store briefly down"), status: 400, ended: 0},
		{status: 200, ended: 1}, // the same jti, redelivered
		{status: 400, ended: 1}, // and again: a replay
	} {
		rcv.mu.Lock()
		rcv.fail = step.fail
		rcv.mu.Unlock()
		st, body, err := e.op.SendLogoutToken(t.Context(), clientID, l)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			e.op.Misbehave(providertest.LogoutTokenReplay) // later deliveries carry the same jti
		}
		rcv.mu.Lock()
		ended := len(rcv.ended)
		rcv.mu.Unlock()
		if st != step.status || ended != step.ended {
			t.Errorf("delivery %d: status %d (%s), sessions ended %d; want %d, %d", i+1, st, body, ended, step.status, step.ended)
		}
	}
}
