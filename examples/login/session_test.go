package main

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestSessions checks the session store: a random id in an HttpOnly,
// SameSite=Lax cookie, expiry, destroy, and the bound on the store's size.
func TestSessions(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	s := newSessions(func() time.Time { return now }, time.Hour, false)

	w := httptest.NewRecorder()
	if err := s.update(w, httptest.NewRequest(http.MethodPost, "/login", nil), func(ss *session) { ss.user = &user{Subject: "alice"} }); err != nil {
		t.Fatal(err)
	}
	cookies := w.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("update set %d cookies, want 1", len(cookies))
	}
	c := cookies[0]
	if c.Name != sessionCookie || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || len(c.Value) < 26 {
		t.Errorf("cookie = %+v, want %s, HttpOnly, SameSite=Lax, Path=/, a random value of 128 bits or more", c, sessionCookie)
	}
	withCookie := func() *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.AddCookie(c)
		return r
	}
	subject := func() string {
		var sub string
		s.with(withCookie(), func(ss *session) {
			if ss != nil && ss.user != nil {
				sub = ss.user.Subject
			}
		})
		return sub
	}
	if got := subject(); got != "alice" {
		t.Errorf("session user = %q, want alice", got)
	}
	// An unknown id finds nothing.
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(&http.Cookie{Name: sessionCookie, Value: "guessed"})
	s.with(r, func(ss *session) {
		if ss != nil {
			t.Error("a guessed session id found a session")
		}
	})
	// Expiry.
	now = now.Add(time.Hour)
	if got := subject(); got != "" {
		t.Errorf("session user after the TTL = %q, want none", got)
	}

	// Destroy.
	now = now.Add(time.Minute)
	w = httptest.NewRecorder()
	_ = s.update(w, httptest.NewRequest(http.MethodPost, "/login", nil), func(ss *session) { ss.user = &user{Subject: "bob"} })
	c = w.Result().Cookies()[0]
	w = httptest.NewRecorder()
	s.destroy(w, withCookie())
	if got := subject(); got != "" {
		t.Errorf("session user after destroy = %q, want none", got)
	}
	if cs := w.Result().Cookies(); len(cs) != 1 || cs[0].MaxAge >= 0 {
		t.Errorf("destroy cookies = %+v, want one expiring cookie", cs)
	}

	// The store is bounded; expired sessions make room again.
	full := newSessions(func() time.Time { return now }, time.Hour, true)
	for i := range maxSessions {
		if err := full.update(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/login", nil), func(*session) {}); err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
	}
	err := full.update(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/login", nil), func(*session) {})
	if !errors.Is(err, errTooManySessions) {
		t.Errorf("update on a full store: error = %v, want errTooManySessions", err)
	}
	now = now.Add(2 * time.Hour)
	w = httptest.NewRecorder()
	if err := full.update(w, httptest.NewRequest(http.MethodPost, "/login", nil), func(*session) {}); err != nil {
		t.Errorf("update after expiry: %v", err)
	}
	if cs := w.Result().Cookies(); len(cs) != 1 || !cs[0].Secure {
		t.Errorf("https app cookie = %+v, want Secure", cs)
	}
}
