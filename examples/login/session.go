package main

import (
	"crypto/rand"
	"errors"

	"net/http"
	"sync"
	"time"
)

// sessionCookie names the cookie that carries the session id. The cookie
// holds only a random id; everything else stays on the server.
const sessionCookie = "pkjwt_session"

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
	secure bool // set the cookie's Secure attribute (the app is served over https)

	// guards m
	mu sync.Mutex
	m  map[string]*session
}

func newSessions(now func() time.Time, ttl time.Duration, secure bool) *sessions {
	return &sessions{now: now, ttl: ttl, secure: secure, m: make(map[string]*session)}
}

// get returns the session named by the request's cookie, or nil.
func (s *sessions) get(r *http.Request) (string, *session) {
	c, err := r.Cookie(sessionCookie)
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

// maxSessions bounds the store: anyone can start a login, and each start
// costs a session until it expires.
const maxSessions = 10_000

// errTooManySessions is returned by update when the store is full.
var errTooManySessions = errors.New("too many sessions in progress")

// update runs f on the request's session under the store's lock, creating a
// new session (and setting its cookie) when there is none. It fails only
// when the store is full.
func (s *sessions) update(w http.ResponseWriter, r *http.Request, f func(*session)) error {
	_, ss := s.get(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss == nil {
		if len(s.m) >= maxSessions {
			s.gcLocked()
		}
		if len(s.m) >= maxSessions {
			return errTooManySessions
		}
		id := rand.Text()
		ss = &session{expires: s.now().Add(s.ttl)}
		s.m[id] = ss
		http.SetCookie(w, &http.Cookie{
			Name:     sessionCookie,
			Value:    id,
			Path:     "/",
			HttpOnly: true,
			Secure:   s.secure,
			SameSite: http.SameSiteLaxMode,
			MaxAge:   int(s.ttl / time.Second),
		})
	}
	f(ss)
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
		Name:     sessionCookie,
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
