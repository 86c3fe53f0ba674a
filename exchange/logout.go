package exchange

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"

	"github.com/pkjwt/pkjwt/provider"
)

// maxLogoutRequestBytes bounds the body of a back-channel logout request:
// a form with one logout token, which the verifier bounds to 32 KiB.
const maxLogoutRequestBytes = 64 << 10

// EndSessionURL builds the URL that logs the user out at the provider
// (OpenID Connect RP-Initiated Logout 1.0 §2): the provider's
// end_session_endpoint with id_token_hint (idToken, the raw ID token of
// the session: Result.Token.Extra("id_token")), client_id, and, when
// postLogoutRedirectURI is set (it must be registered at the provider),
// post_logout_redirect_uri and a fresh state of 256 random bits. Send the
// user's browser there, keep state with the session (a cookie will do; it
// is not a secret, only unguessable) and check the return with
// [Client.EndSessionCallback]. Without postLogoutRedirectURI, state is ""
// and the provider shows its own page. It does no I/O.
//
// Errors: ErrInvalidConfig when the provider advertises no
// end_session_endpoint or postLogoutRedirectURI is not an absolute URL
// without fragment.
func (c *Client) EndSessionURL(idToken, postLogoutRedirectURI string) (endURL, state string, err error) {
	if c.endSessionURL == "" {
		return "", "", fmt.Errorf("exchange: the provider advertises no end_session_endpoint; end the local session only: %w", ErrInvalidConfig)
	}
	u, err := url.Parse(c.endSessionURL)
	if err != nil {
		return "", "", fmt.Errorf("exchange: the provider's end_session_endpoint does not parse: %w", ErrInvalidConfig)
	}
	q := u.Query()
	q.Set("client_id", c.clientID)
	if idToken != "" {
		q.Set("id_token_hint", idToken)
	}
	if postLogoutRedirectURI != "" {
		if err := checkRedirectURL(postLogoutRedirectURI); err != nil {
			return "", "", fmt.Errorf("exchange: post-logout redirect URI: %v: %w", err, ErrInvalidConfig)
		}
		state = random()
		q.Set("post_logout_redirect_uri", postLogoutRedirectURI)
		q.Set("state", state)
	}
	u.RawQuery = q.Encode()
	return u.String(), state, nil
}

// EndSessionCallback checks the request to the post-logout redirect URI
// (OpenID Connect RP-Initiated Logout 1.0 §3): query (r.URL.Query()) must
// carry exactly one state equal to state, the value [Client.EndSessionURL]
// returned (compared in constant time). A mismatch means the request was
// not the answer to this logout: show nothing that depends on it. It does
// no I/O.
//
// Errors: ErrStateMismatch (also for an empty state or a repeated
// parameter).
func (c *Client) EndSessionCallback(query url.Values, state string) error {
	got := query["state"]
	switch {
	case state == "":
		return fmt.Errorf("exchange: no state was kept for this logout: %w", ErrStateMismatch)
	case len(got) != 1:
		return fmt.Errorf("exchange: the post-logout redirect carries %d state parameters, want 1: %w", len(got), ErrStateMismatch)
	case subtle.ConstantTimeCompare([]byte(got[0]), []byte(state)) != 1:
		return fmt.Errorf("exchange: the post-logout redirect's state is not this logout's: %w", ErrStateMismatch)
	}
	return nil
}

// BackchannelLogoutHandler returns the handler of the client's
// backchannel_logout_uri (OpenID Connect Back-Channel Logout 1.0 §2.5):
// it accepts a POST of an application/x-www-form-urlencoded body (at most
// 64 KiB) with exactly one logout_token, verifies it with
// [provider.IDTokenVerifier.VerifyLogoutToken] (signature, typ, iss, aud,
// iat window, exp, events, sub or sid, no nonce, jti once through
// Config.ReplayCache) and calls end with the verified token, which must end
// every local session of its SessionID (the sid of the session's ID token)
// or, when that is empty, of its Subject.
//
// It answers 200 when end returns nil; 400 with a JSON
// {"error":"invalid_request","error_description":…} for a refused
// request or token, and when end fails (§2.8: the logout failed; the
// token's jti is then forgotten in the ReplayCache, so that the provider's
// redelivery of the same token is accepted and end runs again); 405 for
// another method. Every answer has Cache-Control: no-store. Why a token
// was refused is not told to the sender; pass a logger through
// Config.Logger to see it (debug records, never the token). A nil end
// fails every logout.
func (c *Client) BackchannelLogoutHandler(end func(ctx context.Context, t *provider.LogoutToken) error) http.Handler {
	if end == nil {
		end = func(context.Context, *provider.LogoutToken) error {
			return errors.New("exchange: BackchannelLogoutHandler has no end function")
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			logoutError(w, http.StatusMethodNotAllowed, "use POST")
			return
		}
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
			logoutError(w, http.StatusBadRequest, "the body must be application/x-www-form-urlencoded")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxLogoutRequestBytes)
		if err := r.ParseForm(); err != nil {
			logoutError(w, http.StatusBadRequest, "the body is not a form of at most 64 KiB")
			return
		}
		toks := r.PostForm["logout_token"]
		if len(toks) != 1 || toks[0] == "" || len(r.URL.Query()["logout_token"]) > 0 {
			logoutError(w, http.StatusBadRequest, "the body must carry exactly one logout_token")
			return
		}
		lt, err := c.verifier.VerifyLogoutToken(r.Context(), toks[0])
		if err != nil {
			c.logger.DebugContext(r.Context(), "exchange: logout token refused", "err", err)
			logoutError(w, http.StatusBadRequest, "the logout token is invalid")
			return
		}
		if err := end(r.Context(), lt); err != nil {
			c.logger.DebugContext(r.Context(), "exchange: ending the sessions of a logout token failed", "err", err)
			// The provider may deliver the token again: let it in.
			if err := c.verifier.ReleaseLogoutToken(r.Context(), lt); err != nil {
				c.logger.WarnContext(r.Context(), "exchange: a logout token whose sessions could not be ended stays spent; its redelivery will be refused", "err", err)
			}
			logoutError(w, http.StatusBadRequest, "the logout failed")
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// logoutError writes a back-channel logout error answer.
func logoutError(w http.ResponseWriter, status int, description string) {
	b, _ := json.Marshal(map[string]string{"error": "invalid_request", "error_description": description})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}
