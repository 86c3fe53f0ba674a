package providertest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/pkjwt/pkjwt/internal/httpread"
)

// Endpoints of logout. EndpointBackchannelLogout counts the logout tokens
// the server POSTed to clients; it is not an endpoint of the server.
const (
	EndpointEndSession        Endpoint = "end_session"
	EndpointBackchannelLogout Endpoint = "backchannel_logout"
)

// EndSessionPath is the path of the end-session endpoint, below the issuer.
const EndSessionPath = "/end_session"

// BackchannelLogoutEvent is the member of a logout token's events claim
// (OpenID Connect Back-Channel Logout 1.0 §2.4).
const BackchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// ErrInvalidIDTokenHint: the id_token_hint at the end-session endpoint is
// not an ID token this server signed with a published key for the
// client_id sent (expired ones are accepted), or it repeats a member.
var ErrInvalidIDTokenHint = errors.New("providertest: invalid id_token_hint")

const (
	logoutTokenLifetime = 2 * time.Minute
	maxLogoutReplyBytes = 64 << 10
)

// logoutState is what logout remembers. It is guarded by Server.mu.
type logoutState struct {
	ended   map[string]bool // sid → ended at the end-session endpoint
	lastJTI string          // of the last logout token sent
}

// EndSessionEndpoint returns the URL of the end-session endpoint (OpenID
// Connect RP-Initiated Logout 1.0).
func (s *Server) EndSessionEndpoint() string { return s.base + EndSessionPath }

// checkLogoutURIs returns the errors of a client's logout URIs.
func checkLogoutURIs(c Client) []error {
	var errs []error
	for _, r := range c.PostLogoutRedirectURIs {
		u, err := url.Parse(r)
		if err != nil || !u.IsAbs() || u.Fragment != "" || u.Host == "" {
			errs = append(errs, fmt.Errorf("providertest: client %q: post-logout redirect URI %q is not an absolute URL without fragment", c.ID, r))
		}
	}
	if c.BackchannelLogoutURI != "" && !loopbackURL(c.BackchannelLogoutURI) {
		errs = append(errs, fmt.Errorf("providertest: client %q: backchannel logout URI %q is not an http(s) URL without fragment on a loopback host", c.ID, c.BackchannelLogoutURI))
	}
	return errs
}

// loopbackURL reports whether raw is an http(s) URL without fragment whose
// host is localhost or a loopback address.
func loopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Fragment != "" || u.User != nil {
		return false
	}
	h := u.Hostname()
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// Logout names whom a logout token logs out: at least one of Subject and
// SessionID (OpenID Connect Back-Channel Logout 1.0 §2.4).
type Logout struct {
	// Subject is the sub claim: the user's subject identifier. Zero leaves
	// sub out.
	Subject string
	// SessionID is the sid claim, as in the ID tokens of the session. Zero
	// leaves sid out.
	SessionID string
}

// SendLogoutToken builds a logout token for the registered client clientID
// and POSTs it as the form parameter logout_token to the client's
// BackchannelLogoutURI (OpenID Connect Back-Channel Logout 1.0 §2.5),
// without following redirects. It does network I/O bounded by ctx, with
// Config.HTTPClient.
//
// The token is signed like ID tokens (the current key, kid in the header)
// with typ logout+jwt, and carries iss, aud (the client ID), iat, exp (2
// minutes later), a fresh jti, events with [BackchannelLogoutEvent] and
// the sub and sid of l; never a nonce. The LogoutToken… misbehaviors
// switched on apply.
//
// It returns the client's status code and body (at most 64 KiB; a client
// should answer 200). The error wraps ErrUnknownClient when no client
// clientID is registered, ErrInvalidRequest when the client has no
// BackchannelLogoutURI, when l is zero, or when l lacks a SessionID while
// the client registered BackchannelLogoutSessionRequired; otherwise it is
// a transport error (wrapping context errors).
func (s *Server) SendLogoutToken(ctx context.Context, clientID string, l Logout) (status int, body []byte, err error) {
	s.mu.Lock()
	cs := s.clients[clientID]
	s.mu.Unlock()
	switch {
	case cs == nil:
		return 0, nil, fmt.Errorf("providertest: send logout token: client %q is not registered: %w", clientID, ErrUnknownClient)
	case cs.BackchannelLogoutURI == "":
		return 0, nil, fmt.Errorf("providertest: send logout token: client %q has no backchannel logout URI: %w", clientID, ErrInvalidRequest)
	case l.Subject == "" && l.SessionID == "":
		return 0, nil, fmt.Errorf("providertest: send logout token: neither subject nor session ID: %w", ErrInvalidRequest)
	case l.SessionID == "" && cs.BackchannelLogoutSessionRequired:
		return 0, nil, fmt.Errorf("providertest: send logout token: client %q requires a session ID: %w", clientID, ErrInvalidRequest)
	case !loopbackURL(cs.BackchannelLogoutURI): // checked at registration
		return 0, nil, fmt.Errorf("providertest: send logout token: client %q: backchannel logout URI is not on a loopback host: %w", clientID, ErrInvalidRequest)
	}
	tok, err := s.logoutToken(ctx, clientID, l)
	if err != nil {
		return 0, nil, fmt.Errorf("providertest: send logout token: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cs.BackchannelLogoutURI, strings.NewReader(url.Values{"logout_token": {tok}}.Encode()))
	if err != nil {
		return 0, nil, fmt.Errorf("providertest: send logout token: %v: %w", err, ErrInvalidRequest)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	c := *s.cfg.HTTPClient
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	s.count(EndpointBackchannelLogout)
	resp, err := c.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return 0, nil, fmt.Errorf("providertest: send logout token to client %q: %w", clientID, ctxErr)
		}
		return 0, nil, fmt.Errorf("providertest: send logout token to client %q: %v", clientID, err)
	}
	defer resp.Body.Close()
	body, err = httpread.All(resp.Body, maxLogoutReplyBytes)
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("providertest: read the answer of client %q to a logout token: %v", clientID, err)
	}
	return resp.StatusCode, body, nil
}

// logoutToken builds and signs a logout token, applying the LogoutToken…
// misbehaviors.
func (s *Server) logoutToken(ctx context.Context, clientID string, l Logout) (string, error) {
	s.mu.Lock()
	key := s.keys.current()
	m := map[Misbehavior]bool{}
	for _, x := range []Misbehavior{LogoutTokenNonce, LogoutTokenNoEvents, LogoutTokenWrongTyp, LogoutTokenReplay, LogoutTokenOtherSubject} {
		m[x] = s.on(x)
	}
	jti := randomString(16)
	if m[LogoutTokenReplay] && s.logout.lastJTI != "" {
		jti = s.logout.lastJTI
	}
	s.logout.lastJTI = jti
	user := s.user.Subject
	s.mu.Unlock()
	now := s.now()
	c := map[string]any{
		"iss": s.issuer, "aud": clientID, "iat": now.Unix(), "exp": now.Add(logoutTokenLifetime).Unix(), "jti": jti,
		"events": map[string]any{BackchannelLogoutEvent: map[string]any{}},
	}
	if l.Subject != "" {
		c["sub"] = l.Subject
	}
	if l.SessionID != "" {
		c["sid"] = l.SessionID
	}
	if m[LogoutTokenNonce] {
		c["nonce"] = "nonce-" + randomString(8)
	}
	if m[LogoutTokenNoEvents] {
		delete(c, "events")
	}
	if m[LogoutTokenOtherSubject] {
		if l.Subject != "" {
			user = l.Subject
		}
		c["sub"] = otherSubject(user)
	}
	typ := "logout+jwt"
	if m[LogoutTokenWrongTyp] {
		typ = "at+jwt"
	}
	return signJWT(ctx, key, map[string]any{"typ": typ, "kid": key.KeyID()}, c)
}

// SessionEnded reports whether the session sid (the sid claim of ID
// tokens) was ended at the end-session endpoint.
func (s *Server) SessionEnded(sid string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logout.ended[sid]
}

// endSessionPage answers a refusal at the end-session endpoint: never
// redirected.
func (s *Server) endSessionPage(w http.ResponseWriter, clientID string, err error) {
	s.record(Refusal{Endpoint: EndpointEndSession, Status: http.StatusBadRequest, Code: "invalid_request", Reason: err, ClientID: clientID})
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprintln(w, "error: invalid_request")
}

// serveEndSession is the end-session endpoint (OpenID Connect RP-Initiated
// Logout 1.0 §2, §3), by GET or POST. It verifies id_token_hint when sent
// (an ID token of this server, expired or not), checks that client_id, when
// sent, is among its audiences, and that post_logout_redirect_uri, when
// sent, is registered for the client exactly. It then ends the sessions
// (the hint's sid; without one, every session of the hint's subject, or of
// the configured user without a hint): their codes, access and refresh
// tokens are revoked, and every client of the session with a
// BackchannelLogoutURI gets a logout token with sub and sid. It redirects
// to post_logout_redirect_uri with state, or answers 200 without one.
// Refusals answer 400 and never redirect.
func (s *Server) serveEndSession(w http.ResponseWriter, r *http.Request) {
	var q url.Values
	switch r.Method {
	case http.MethodGet:
		q = r.URL.Query()
	case http.MethodPost:
		var err error
		if q, err = readForm(r); err != nil {
			s.endSessionPage(w, "", err)
			return
		}
	default:
		s.endSessionPage(w, "", fmt.Errorf("providertest: method %s, want GET or POST: %w", r.Method, ErrInvalidRequest))
		return
	}
	clientID := q.Get("client_id")
	for k, v := range q {
		if len(v) > 1 {
			s.endSessionPage(w, clientID, fmt.Errorf("providertest: parameter %.40q repeated: %w", k, ErrInvalidRequest))
			return
		}
	}
	var hint *idTokenHint
	if raw := q.Get("id_token_hint"); raw != "" {
		var err error
		if hint, err = s.verifyIDTokenHint(raw); err != nil {
			s.endSessionPage(w, clientID, err)
			return
		}
		if clientID != "" && !slices.Contains(hint.aud, clientID) {
			s.endSessionPage(w, clientID, fmt.Errorf("providertest: client_id %.60q is not an audience of id_token_hint: %w", clientID, ErrInvalidIDTokenHint))
			return
		}
		if clientID == "" {
			clientID = hint.client
		}
	}
	var cs *clientState
	if clientID != "" {
		s.mu.Lock()
		cs = s.clients[clientID]
		s.mu.Unlock()
		if cs == nil {
			s.endSessionPage(w, clientID, fmt.Errorf("providertest: client %.60q is not registered: %w", clientID, ErrUnknownClient))
			return
		}
	}
	redirect := q.Get("post_logout_redirect_uri")
	if redirect != "" {
		if cs == nil {
			s.endSessionPage(w, "", fmt.Errorf("providertest: post_logout_redirect_uri without client_id or id_token_hint: %w", ErrInvalidRequest))
			return
		}
		if !slices.Contains(cs.PostLogoutRedirectURIs, redirect) {
			s.endSessionPage(w, clientID, fmt.Errorf("providertest: post_logout_redirect_uri %.100q is not registered for client %q: %w", redirect, clientID, ErrRedirectURI))
			return
		}
	}
	for _, n := range s.endSessions(hint) {
		// The answers are the clients' business; a test sees them at its
		// own receiver.
		s.SendLogoutToken(r.Context(), n.clientID, n.logout)
	}
	w.Header().Set("Cache-Control", "no-store")
	if redirect == "" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "logged out")
		return
	}
	u, _ := url.Parse(redirect) // registered URIs parse
	if state := q.Get("state"); state != "" {
		uq := u.Query()
		uq.Set("state", state)
		u.RawQuery = uq.Encode()
	}
	w.Header().Set("Location", u.String())
	w.WriteHeader(http.StatusFound)
}

// idTokenHint is what a verified id_token_hint states.
type idTokenHint struct {
	sub, sid string
	aud      []string
	client   string // azp, else the sole audience
}

// verifyIDTokenHint verifies an ID token this server signed with one of its
// published keys: strict JSON, typ absent or JWT, iss the issuer, sub, aud,
// exp and iat present. Its exp is not checked (RP-Initiated Logout 1.0 §2).
func (s *Server) verifyIDTokenHint(raw string) (*idTokenHint, error) {
	bad := func(why string) error {
		return fmt.Errorf("providertest: id_token_hint %s: %w", why, ErrInvalidIDTokenHint)
	}
	p, err := parseCompact(raw)
	if err != nil {
		return nil, bad("does not parse")
	}
	if t, ok := p.header["typ"]; ok {
		if ts, _ := t.(string); !strings.EqualFold(strings.TrimPrefix(strings.ToLower(ts), "application/"), "jwt") {
			return nil, bad("is not typed as an ID token")
		}
	}
	s.mu.Lock()
	keys := s.keys.published()
	alg := s.cfg.IDTokenAlgorithm
	s.mu.Unlock()
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	if err != nil || len(jws.Signatures) != 1 {
		return nil, bad("is not signed with " + string(alg))
	}
	kid := jws.Signatures[0].Header.KeyID
	verified := false
	for _, k := range keys {
		if kid != "" && kid != k.KeyID() {
			continue
		}
		if _, err := jws.Verify(k.Public()); err == nil {
			verified = true
			break
		}
	}
	if !verified {
		return nil, bad("signature does not verify with the published keys")
	}
	h := &idTokenHint{}
	h.sub, _ = p.claims["sub"].(string)
	h.sid, _ = p.claims["sid"].(string)
	switch a := p.claims["aud"].(type) {
	case string:
		h.aud = []string{a}
	case []any:
		for _, v := range a {
			if sv, ok := v.(string); ok {
				h.aud = append(h.aud, sv)
			}
		}
	}
	if iss, _ := p.claims["iss"].(string); iss != s.issuer {
		return nil, bad("was issued by another issuer")
	}
	_, hasExp := numericDate(p.claims["exp"])
	_, hasIat := numericDate(p.claims["iat"])
	if h.sub == "" || len(h.aud) == 0 || !hasExp || !hasIat {
		// A signed userinfo response, for one, has no exp and no iat.
		return nil, bad("lacks sub, aud, exp or iat")
	}
	if azp, _ := p.claims["azp"].(string); azp != "" {
		h.client = azp
	} else if len(h.aud) == 1 {
		h.client = h.aud[0]
	}
	return h, nil
}

// notification is a logout token to send.
type notification struct {
	clientID string
	logout   Logout
}

// endSessions ends the sessions hint names (see serveEndSession) and
// returns the logout tokens to send: one per session and client with a
// BackchannelLogoutURI. Sessions ended before are skipped.
func (s *Server) endSessions(hint *idTokenHint) []notification {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	// A session is the sid of codes and tokens; its subject and clients
	// are theirs.
	type session struct {
		sub     string
		clients map[string]bool
	}
	sessions := map[string]*session{}
	add := func(sid, sub, clientID string) {
		if sid == "" {
			return
		}
		ss := sessions[sid]
		if ss == nil {
			ss = &session{sub: sub, clients: map[string]bool{}}
			sessions[sid] = ss
		}
		ss.clients[clientID] = true
	}
	for _, c := range s.codes {
		add(c.sid, c.user.Subject, c.clientID)
	}
	for _, t := range s.tokens {
		add(t.sid, t.user.Subject, t.clientID)
	}
	match := func(sid string, ss *session) bool {
		switch {
		case hint == nil:
			return ss.sub == s.user.Subject
		case hint.sid != "":
			return sid == hint.sid
		default:
			return ss.sub == hint.sub
		}
	}
	if s.logout.ended == nil {
		s.logout.ended = map[string]bool{}
	}
	if hint != nil && hint.sid != "" && sessions[hint.sid] == nil {
		s.logout.ended[hint.sid] = true // nothing of it is left to revoke
	}
	var out []notification
	for sid, ss := range sessions {
		if !match(sid, ss) || s.logout.ended[sid] {
			continue
		}
		s.logout.ended[sid] = true
		for _, c := range s.codes {
			if c.sid == sid {
				c.revoked = true
				c.expires = now
			}
		}
		for _, t := range s.tokens {
			if t.sid == sid {
				t.revoked = true
			}
		}
		for id := range ss.clients {
			if cs := s.clients[id]; cs != nil && cs.BackchannelLogoutURI != "" {
				out = append(out, notification{id, Logout{Subject: ss.sub, SessionID: sid}})
			}
		}
	}
	slices.SortFunc(out, func(a, b notification) int {
		return strings.Compare(a.clientID+"\x00"+a.logout.SessionID, b.clientID+"\x00"+b.logout.SessionID)
	})
	return out
}

// EndSession plays the user agent for an RP-initiated logout: it GETs
// endSessionURL (a logout request the client built) without following
// redirects and returns the Location it was sent to (the client's
// post_logout_redirect_uri with state), or nil when the server logged out
// without redirecting. It does network I/O bounded by ctx; the logout
// tokens the server sends are POSTed before it returns. When the server
// refuses (400: a bad id_token_hint, an unknown client, an unregistered
// post_logout_redirect_uri) the error wraps ErrNotRedirected; the recorded
// refusal says why.
func (s *Server) EndSession(ctx context.Context, endSessionURL string) (*url.URL, error) {
	c := *s.HTTPClient()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endSessionURL, nil)
	if err != nil {
		return nil, fmt.Errorf("providertest: end session: %w", err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("providertest: end session: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	switch resp.StatusCode {
	case http.StatusOK:
		return nil, nil
	case http.StatusFound, http.StatusSeeOther:
		loc, err := resp.Location()
		if err != nil {
			return nil, fmt.Errorf("providertest: end session: redirect without a valid Location: %w", ErrNotRedirected)
		}
		return loc, nil
	}
	return nil, fmt.Errorf("providertest: end session: status %d: %w", resp.StatusCode, ErrNotRedirected)
}
