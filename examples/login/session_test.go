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
	if err := s.start(w, httptest.NewRequest(http.MethodGet, "/callback", nil), &user{Subject: "alice"}); err != nil {
		t.Fatal(err)
	}
	cookies := w.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("start set %d cookies, want 1", len(cookies))
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
	_ = s.start(w, httptest.NewRequest(http.MethodGet, "/callback", nil), &user{Subject: "bob"})
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
		if err := full.start(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/callback", nil), &user{}); err != nil {
			t.Fatalf("start %d: %v", i, err)
		}
	}
	err := full.start(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/callback", nil), &user{})
	if !errors.Is(err, errTooManySessions) {
		t.Errorf("start on a full store: error = %v, want errTooManySessions", err)
	}
	now = now.Add(2 * time.Hour)
	w = httptest.NewRecorder()
	if err := full.start(w, httptest.NewRequest(http.MethodGet, "/callback", nil), &user{}); err != nil {
		t.Errorf("start after expiry: %v", err)
	}
	if cs := w.Result().Cookies(); len(cs) != 1 || !cs[0].Secure || cs[0].Name != secureSessionCookie {
		t.Errorf("https app cookie = %+v, want Secure %s", cs, secureSessionCookie)
	}
}

// TestSessionFixation plants a session id in the browser before a login:
// the attacker's own, logged-in session, or an id the store never issued.
// The login forgets the planted session and starts a new one under a fresh
// id, so the planted id never holds the victim's login.
func TestSessionFixation(t *testing.T) {
	t.Parallel()
	for _, secure := range []bool{false, true} {
		s := newSessions(time.Now, time.Hour, secure)
		cookieOf := func(w *httptest.ResponseRecorder) *http.Cookie {
			t.Helper()
			cs := w.Result().Cookies()
			if len(cs) != 1 || cs[0].Name != s.cookie || cs[0].Value == "" {
				t.Fatalf("secure=%v: cookies = %v, want one %s", secure, cs, s.cookie)
			}
			return cs[0]
		}
		subject := func(id string) string {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.AddCookie(&http.Cookie{Name: s.cookie, Value: id})
			if _, ss := s.get(r); ss != nil && ss.user != nil {
				return ss.user.Subject
			}
			return ""
		}
		// The attacker logs in as himself and learns his session id.
		w := httptest.NewRecorder()
		if err := s.start(w, httptest.NewRequest(http.MethodGet, "/callback", nil), &user{Subject: "mallory"}); err != nil {
			t.Fatal(err)
		}
		attackers := cookieOf(w).Value
		for _, planted := range []string{attackers, "planted-id-the-store-never-issued"} {
			// The victim's browser carries the planted id and completes
			// a login.
			r := httptest.NewRequest(http.MethodGet, "/callback", nil)
			r.AddCookie(&http.Cookie{Name: s.cookie, Value: planted})
			w := httptest.NewRecorder()
			if err := s.start(w, r, &user{Subject: "alice"}); err != nil {
				t.Fatal(err)
			}
			victims := cookieOf(w).Value
			if victims == planted {
				t.Errorf("secure=%v: the login kept the planted session id", secure)
			}
			if got := subject(planted); got != "" {
				t.Errorf("secure=%v: the planted session id holds %q after the victim's login, want no session", secure, got)
			}
			if got := subject(victims); got != "alice" {
				t.Errorf("secure=%v: the victim's new session holds %q, want alice", secure, got)
			}
		}
	}
}

// TestSessionCookieName checks the cookie's name: __Host-pkjwt_session
// (Secure, Path=/, no Domain) for an app served over https, and that such
// an app does not read an unprefixed cookie, which a sibling subdomain or
// a man-in-the-middle on plain http could have set.
func TestSessionCookieName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		secure bool
		name   string
	}{
		{false, "pkjwt_session"},
		{true, "__Host-pkjwt_session"},
	} {
		s := newSessions(time.Now, time.Hour, tc.secure)
		w := httptest.NewRecorder()
		if err := s.start(w, httptest.NewRequest(http.MethodGet, "/callback", nil), &user{Subject: "alice"}); err != nil {
			t.Fatal(err)
		}
		cs := w.Result().Cookies()
		if len(cs) != 1 || cs[0].Name != tc.name || cs[0].Secure != tc.secure || cs[0].Path != "/" || cs[0].Domain != "" {
			t.Fatalf("secure=%v: cookies = %+v, want one %s, Secure %v, Path=/, no Domain", tc.secure, cs, tc.name, tc.secure)
		}
		id := cs[0].Value
		if tc.secure {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.AddCookie(&http.Cookie{Name: sessionCookie, Value: id})
			if _, ss := s.get(r); ss != nil {
				t.Error("an https app read the session id from an unprefixed cookie")
			}
		}
		w = httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/logout", nil)
		r.AddCookie(&http.Cookie{Name: tc.name, Value: id})
		s.destroy(w, r)
		if cs := w.Result().Cookies(); len(cs) != 1 || cs[0].Name != tc.name || cs[0].MaxAge >= 0 {
			t.Errorf("secure=%v: destroy cookies = %+v, want %s expired", tc.secure, cs, tc.name)
		}
	}
}
