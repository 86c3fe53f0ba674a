package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"time"

	"github.com/pkjwt/pkjwt/exchange"
	"github.com/pkjwt/pkjwt/provider"
)

// logoutCookie carries the state of a logout at the provider until the
// browser comes back to /logged-out. The state is not a secret, only
// unguessable: it tells this browser's logout answer from a forged one.
const logoutCookie = "pkjwt_logout"

// endSession prepares the logout at the provider (OpenID Connect
// RP-Initiated Logout): it keeps the state in a cookie and returns the
// provider's URL to send the browser to. ok is false when the provider has
// no end_session_endpoint: then only the local session ends.
func (a *app) endSession(w http.ResponseWriter, r *http.Request, idToken string) (endURL string, ok bool) {
	endURL, state, err := a.client.EndSessionURL(idToken, a.base+"/logged-out")
	if err != nil {
		a.log.Info("no logout at the provider", "err", err)
		return "", false
	}
	http.SetCookie(w, &http.Cookie{
		Name:     logoutCookie,
		Value:    state,
		Path:     "/",
		MaxAge:   int((10 * time.Minute).Seconds()),
		HttpOnly: true,
		Secure:   a.sessions.secure,
		SameSite: http.SameSiteLaxMode, // the provider's redirect back is a top-level GET
	})
	return endURL, true
}

// loggedOut is the post-logout redirect URI: the provider sends the browser
// back here with the state of the logout, checked against the cookie.
func (a *app) loggedOut(w http.ResponseWriter, r *http.Request) {
	var state string
	if c, err := r.Cookie(logoutCookie); err == nil {
		state = c.Value
	}
	http.SetCookie(w, &http.Cookie{Name: logoutCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: a.sessions.secure, SameSite: http.SameSiteLaxMode})
	if err := a.client.EndSessionCallback(r.URL.Query(), state); err != nil {
		a.log.Warn("logout answer refused", "err", err)
		render(w, http.StatusBadRequest, page{Title: "Start", Issuer: a.client.Issuer(), JWKSURL: a.jwksURL,
			Notice: "You are logged out of this app. The provider's answer did not belong to this browser's logout, so it was ignored."})
		return
	}
	a.log.Info("logged out at the provider")
	http.Redirect(w, r, "/?logged_out=1", http.StatusSeeOther)
}

// backchannelLogout ends the local sessions a verified logout token from
// the provider names (OpenID Connect Back-Channel Logout): those of its
// sid, or of its sub when it has no sid.
func (a *app) backchannelLogout(_ context.Context, t *provider.LogoutToken) error {
	n := a.sessions.endMatching(t.SessionID, t.Subject)
	a.log.Info("back-channel logout", "sub", t.Subject, "sessions_ended", n)
	return nil
}

// addUserInfo reads the user's claims from the UserInfo endpoint (whose sub
// must be the ID token's) into u. A provider without the endpoint, or a
// failure, leaves u as the ID token made it: the login stands.
func (a *app) addUserInfo(ctx context.Context, u *user, res *exchange.Result) {
	u.sessionID = res.IDToken.SessionID
	u.idToken, _ = res.Token.Extra("id_token").(string)
	var all map[string]json.RawMessage
	if err := a.client.UserInfo(ctx, res.Token, res.IDToken.Subject, &all); err != nil {
		if !errors.Is(err, exchange.ErrInvalidConfig) {
			a.log.Warn("userinfo failed", "err", err)
		}
		return
	}
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	sort.Strings(names)
	u.UserInfo = []claim{}
	for _, n := range names {
		u.UserInfo = append(u.UserInfo, claim{Name: n, Value: claimValue(n, all[n])})
	}
	var name string
	if json.Unmarshal(all["name"], &name) == nil {
		u.Name = name
	}
}
