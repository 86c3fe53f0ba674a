package main

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/pkjwt/pkjwt/exchange"
)

// app is the web app of -serve: a start page with a "Log in" button, the
// callback, a page with the verified claims, and log out.
type app struct {
	client   *exchange.Client
	sessions *sessions
	// cookies keeps each half-finished login in its own sealed cookie:
	// nothing is stored on the server before a login completes.
	cookies *exchange.TransactionCookies
	base    string // the app's URL, for the post-logout redirect URI
	jwksURL string
	log     *slog.Logger
	config  *config // for the hints in the log
}

// routes adds the app's pages to mux, which already serves the JWK Set.
func (a *app) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("POST /login", a.login)
	mux.HandleFunc("GET /callback", a.callback)
	mux.HandleFunc("POST /logout", a.logout)
	mux.HandleFunc("GET /logged-out", a.loggedOut)
	mux.Handle("POST /backchannel-logout", a.client.BackchannelLogoutHandler(a.backchannelLogout))
}

func (a *app) home(w http.ResponseWriter, r *http.Request) {
	var u *user
	a.sessions.with(r, func(s *session) {
		if s != nil {
			u = s.user
		}
	})
	p := page{Title: "Start", User: u, Issuer: a.client.Issuer(), JWKSURL: a.jwksURL}
	if u != nil {
		p.Title = "Signed in"
	} else if r.URL.Query().Get("logged_out") == "1" {
		p.Notice = "You are logged out."
	}
	render(w, http.StatusOK, p)
}

// login starts a login: a fresh transaction (state, nonce, PKCE verifier)
// goes into a sealed cookie of its own (so parallel tabs each keep theirs,
// and no count of anonymous requests fills anything on the server), the
// browser goes to the provider.
func (a *app) login(w http.ResponseWriter, r *http.Request) {
	authURL, tx, err := a.client.AuthCodeURL(r.Context())
	if err != nil {
		a.fail(w, http.StatusInternalServerError, "begin login", err, "check the app's configuration (-redirect-url)")
		return
	}
	logPushed(a.log, authURL)
	if err := a.cookies.Save(w, r, tx); err != nil {
		a.fail(w, http.StatusInternalServerError, "begin login", err, "check the app's configuration (-redirect-url)")
		return
	}
	http.Redirect(w, r, authURL, http.StatusSeeOther)
}

// callback completes the login: the transaction is taken out of its
// sealed cookie (one callback per transaction), then state, iss, the code
// exchange and the ID token are checked by exchange.Client.Callback; the
// user gets a new session under a fresh id.
func (a *app) callback(w http.ResponseWriter, r *http.Request) {
	tx, err := a.cookies.Load(w, r, r.URL.Query().Get("state"))
	if err != nil {
		a.log.Info("callback without its transaction cookie", "err", err)
		a.fail(w, http.StatusBadRequest, "callback", errNoPendingLogin, "")
		return
	}
	res, err := a.client.Callback(r.Context(), tx, r.URL.Query())
	if err != nil {
		a.fail(w, http.StatusUnauthorized, "login", err, hint(err, a.config))
		return
	}
	u, err := userOf(res.IDToken)
	if err != nil {
		a.fail(w, http.StatusInternalServerError, "login", err, "")
		return
	}
	a.addUserInfo(r.Context(), u, res)
	// A new session with a fresh id: whatever session id the browser
	// brought (perhaps planted by someone else) is forgotten.
	if err := a.sessions.start(w, r, u); err != nil {
		a.fail(w, http.StatusServiceUnavailable, "login", err, "")
		return
	}
	a.log.Info("login", "sub", u.Subject)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// logout forgets the session and, when the provider has an
// end_session_endpoint, sends the browser there to end the session at the
// provider too (see logout.go). A POST, so that a cross-site link cannot
// log the user out (the SameSite=Lax cookie is not sent on a cross-site
// POST).
func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	var idToken string
	a.sessions.with(r, func(s *session) {
		if s != nil && s.user != nil {
			idToken = s.user.idToken
		}
	})
	a.sessions.destroy(w, r)
	if idToken != "" {
		if endURL, ok := a.endSession(w, r, idToken); ok {
			http.Redirect(w, r, endURL, http.StatusSeeOther)
			return
		}
	}
	http.Redirect(w, r, "/?logged_out=1", http.StatusSeeOther)
}

var errNoPendingLogin = errors.New("no login in progress for this browser")

// fail logs err (whose text never carries a token, code or assertion) with
// the provider's own words and the operator's hint, and shows the user a
// plain page: what went wrong and what to do, in words for the user, never
// the library's or the provider's text.
func (a *app) fail(w http.ResponseWriter, status int, what string, err error, hint string) {
	attrs := []any{"err", err}
	// The slog handler quotes the provider's words.
	if desc, uri := providerSaid(err); desc != "" || uri != "" {
		attrs = append(attrs, "error_description", desc, "error_uri", uri)
	}
	if hint != "" {
		attrs = append(attrs, "hint", hint)
	}
	a.log.Warn(what+" failed", attrs...)
	msg, todo := plain(err, status)
	render(w, status, page{Title: "Login failed", Error: msg, Hint: todo})
}
