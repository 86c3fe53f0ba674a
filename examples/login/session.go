package main

import (
	"crypto/rand"
	"errors"
	"net/http"
	"sync"
	"time"
)

// sessionCookie names the cookie that carries the session id of an app
// served over plain http on a loopback host (development). The cookie holds
// only a random id; everything else stays on the server.
const sessionCookie = "pkjwt_session"

// secureSessionCookie names it when the app is served over https: the
// __Host- prefix makes the browser accept it only with Secure, Path=/ and no
// Domain, from this very host, so neither a sibling subdomain nor a
// man-in-the-middle on plain http can plant one.
const secureSessionCookie = "__Host-" + sessionCookie

// session is what the server keeps about one browser.
type session struct {
	expires time.Time
	// user is set once a login has completed and its ID token was verified.
	// A session exists only for a logged-in user: the login in progress
	// lives in its own sealed cookie (exchange.TransactionCookies).
	user *user
}

// user is a logged-in user: the verified claims of their ID token, and
// what UserInfo said.
type user struct {
	Subject string
	Claims  []claim
	// Name is UserInfo's name, "" when it has none.
	Name string
	// UserInfo are UserInfo's claims, nil when it could not be read.
	UserInfo []claim
	// sessionID is the ID token's sid: a back-channel logout names it.
	sessionID string
	// idToken is the raw ID token, the id_token_hint of the logout at
	// the provider. It stays on the server.
	idToken string
}

// claim is one verified ID token claim, its value rendered as JSON.
type claim struct{ Name, Value string }

// sessions is an in-memory session store keyed by a random id. It is safe for
// concurrent use.
type sessions struct {
	now    func() time.Time
	ttl    time.Duration
	secure bool   // set the cookie's Secure attribute (the app is served over https)
	cookie string // the cookie's name: secureSessionCookie when secure

	// guards m
	mu sync.Mutex
	m  map[string]*session
}

// newSessions returns an empty store. secure is true when the app is served
// over https (its redirect URL is https); false is only for plain http on a
// loopback host during development, where a browser would not send a
// Secure cookie back and refuses the __Host- prefix without it.
func newSessions(now func() time.Time, ttl time.Duration, secure bool) *sessions {
	name := sessionCookie
	if secure {
		name = secureSessionCookie
	}
	return &sessions{now: now, ttl: ttl, secure: secure, cookie: name, m: make(map[string]*session)}
}

// get returns the session named by the request's cookie, or nil.
func (s *sessions) get(r *http.Request) (string, *session) {
	c, err := r.Cookie(s.cookie)
	if err != nil {
		return "", nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.m[c.Value]
	if !ok {
		return "", nil
	}
	if !s.now().Before(ss.expires) {
		delete(s.m, c.Value)
		return "", nil
	}
	return c.Value, ss
}

// maxSessions bounds the store: each completed login costs a session until
// it expires or logs out.
const maxSessions = 10_000

// errTooManySessions is returned by start when the store is full.
var errTooManySessions = errors.New("too many sessions")

// start begins the session of u, who has just logged in: any session the
// request's cookie names is forgotten first, and the new one gets a fresh
// random id in a new cookie. A session id is never reused across a login,
// so an id planted in the browser before the login (session fixation)
// never holds the user's login. It fails only when the store is full.
func (s *sessions) start(w http.ResponseWriter, r *http.Request, u *user) error {
	old, _ := s.get(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	if old != "" {
		delete(s.m, old)
	}
	if len(s.m) >= maxSessions {
		s.gcLocked()
	}
	if len(s.m) >= maxSessions {
		return errTooManySessions
	}
	id := rand.Text()
	s.m[id] = &session{expires: s.now().Add(s.ttl), user: u}
	http.SetCookie(w, &http.Cookie{
		Name:     s.cookie,
		Value:    id,
		Path:     "/",
		HttpOnly: true,
		Secure:   s.secure,
		SameSite: http.SameSiteLaxMode,
		MaxAge:   int(s.ttl / time.Second),
	})
	return nil
}

// with runs f on the request's session under the store's lock; f
// sees nil when there is no session.
func (s *sessions) with(r *http.Request, f func(*session)) {
	_, ss := s.get(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	f(ss)
}

// destroy forgets the request's session and expires its cookie.
func (s *sessions) destroy(w http.ResponseWriter, r *http.Request) {
	if id, _ := s.get(r); id != "" {
		s.mu.Lock()
		delete(s.m, id)
		s.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{
		Name:     s.cookie,
		Value:    "",
		Path:     "/",
		HttpOnly: true,
		Secure:   s.secure,
		SameSite: http.SameSiteLaxMode,
		MaxAge:   -1,
	})
}

// gcLocked drops expired sessions. s.mu must be held.
func (s *sessions) gcLocked() {
	now := s.now()
	for id, ss := range s.m {
		if !now.Before(ss.expires) {
			delete(s.m, id)
		}
	}
}

// endMatching forgets every session of the provider session sid or, when
// sid is empty, of the user sub (a back-channel logout), and reports how
// many it forgot.
func (s *sessions) endMatching(sid, sub string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, ss := range s.m {
		if ss.user == nil {
			continue
		}
		if (sid != "" && ss.user.sessionID == sid) || (sid == "" && sub != "" && ss.user.Subject == sub) {
			delete(s.m, id)
			n++
		}
	}
	return n
}
