package providertest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// ErrNotRedirected is returned by [Server.Authorize] when the authorization
// endpoint answers without a redirect: an unknown client or a redirect_uri
// that is not registered, which must never be redirected to.
var ErrNotRedirected = errors.New("providertest: authorization endpoint did not redirect")

// serveAuthorize is the authorization endpoint (RFC 6749 §4.1.1, OIDC Core
// §3.1.2, RFC 7636, RFC 9207). It approves the configured user at once.
func (s *Server) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	var q url.Values
	switch r.Method {
	case http.MethodGet:
		q = r.URL.Query()
	case http.MethodPost: // OIDC Core §3.1.2.1: GET and POST
		var err error
		if q, err = readForm(r); err != nil {
			s.authorizePage(w, "", err)
			return
		}
	default:
		s.authorizePage(w, "", fmt.Errorf("providertest: method %s, want GET or POST: %w", r.Method, ErrInvalidRequest))
		return
	}
	for k, v := range q {
		if len(v) > 1 {
			s.authorizePage(w, q.Get("client_id"), fmt.Errorf("providertest: parameter %.40q repeated: %w", k, ErrInvalidRequest))
			return
		}
	}
	// PAR (RFC 9126 §4, par.go): q becomes the pushed request.
	var ok bool
	if q, ok = s.resolvePushed(w, q); !ok {
		return
	}
	clientID, redirectURI := q.Get("client_id"), q.Get("redirect_uri")
	s.mu.Lock()
	cs := s.clients[clientID]
	s.mu.Unlock()
	if cs == nil {
		s.authorizePage(w, clientID, fmt.Errorf("providertest: client %.60q is not registered: %w", clientID, ErrUnknownClient))
		return
	}
	if redirectURI == "" || !slices.Contains(cs.RedirectURIs, redirectURI) {
		s.authorizePage(w, clientID, fmt.Errorf("providertest: redirect_uri %.100q is not registered for client %q: %w", redirectURI, clientID, ErrRedirectURI))
		return
	}
	// From here on, errors go back to the client (RFC 6749 §4.1.2.1).
	state := q.Get("state")
	fail := func(code string, err error) {
		s.record(Refusal{Endpoint: EndpointAuthorize, Status: http.StatusFound, Code: code, Reason: err, ClientID: clientID})
		s.redirect(w, redirectURI, url.Values{"error": {code}}, state)
	}
	scopes := strings.Fields(q.Get("scope"))
	switch {
	case q.Get("response_type") != "code":
		fail("unsupported_response_type", fmt.Errorf("providertest: response_type %.40q, want code: %w", q.Get("response_type"), ErrInvalidRequest))
		return
	case !slices.Contains(cs.GrantTypes, GrantAuthorizationCode):
		fail("unauthorized_client", fmt.Errorf("providertest: client %q may not use the authorization code grant: %w", clientID, ErrUnauthorizedClient))
		return
	case !slices.Contains(scopes, "openid"):
		fail("invalid_scope", fmt.Errorf("providertest: scope lacks openid: %w", ErrScope))
		return
	case q.Get("code_challenge_method") != "S256":
		fail("invalid_request", fmt.Errorf("providertest: code_challenge_method %.20q, want S256: %w", q.Get("code_challenge_method"), ErrPKCE))
		return
	case !validChallenge(q.Get("code_challenge")):
		fail("invalid_request", fmt.Errorf("providertest: code_challenge is not 43 base64url characters: %w", ErrPKCE))
		return
	case q.Get("request") != "" || q.Get("request_uri") != "":
		fail("request_not_supported", fmt.Errorf("providertest: request objects are not supported: %w", ErrInvalidRequest))
		return
	}
	if s.is(AuthorizeError) {
		fail("access_denied", fmt.Errorf("providertest: AuthorizeError switched on: %w", ErrMisbehaving))
		return
	}
	now := s.now()
	code := randomString(32)
	s.mu.Lock()
	s.codes[code] = &codeGrant{
		clientID: clientID, redirectURI: redirectURI, challenge: q.Get("code_challenge"),
		nonce: q.Get("nonce"), scope: strings.Join(scopes, " "), sid: randomString(12),
		user: copyUser(s.user), authTime: now, expires: now.Add(s.cfg.CodeLifetime),
		dpopJKT: q.Get("dpop_jkt"), // RFC 9449 §10
	}
	// Forget expired codes now and then, so memory stays bounded.
	if len(s.codes) > 1024 {
		for k, c := range s.codes {
			if !now.Before(c.expires) && !c.used {
				delete(s.codes, k)
			}
		}
	}
	s.mu.Unlock()
	s.redirect(w, redirectURI, url.Values{"code": {code}}, state)
}

// validChallenge checks an S256 code_challenge: 43 base64url characters.
func validChallenge(c string) bool {
	if len(c) != 43 {
		return false
	}
	_, err := b64.DecodeString(c)
	return err == nil
}

// redirect answers 302 to redirectURI with params, state and iss added,
// applying the Authorize… misbehaviors.
func (s *Server) redirect(w http.ResponseWriter, redirectURI string, params url.Values, state string) {
	s.mu.Lock()
	wrongIss, noIss, wrongState := s.on(AuthorizeWrongIssuer), s.on(AuthorizeMissingIssuer), s.on(AuthorizeWrongState)
	s.mu.Unlock()
	u, _ := url.Parse(redirectURI) // registered URIs parse
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	if wrongState {
		state = "not-the-state-" + randomString(8)
	}
	if state != "" {
		q.Set("state", state)
	}
	switch {
	case noIss:
	case wrongIss:
		q.Set("iss", s.issuer+"/wrong-issuer")
	default:
		q.Set("iss", s.issuer)
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", u.String())
	w.WriteHeader(http.StatusFound)
}

// authorizePage refuses without redirecting: a 400 page naming the OAuth
// error.
func (s *Server) authorizePage(w http.ResponseWriter, clientID string, err error) {
	code := "invalid_request"
	if errors.Is(err, ErrUnknownClient) {
		code = "unauthorized_client"
	}
	s.record(Refusal{Endpoint: EndpointAuthorize, Status: http.StatusBadRequest, Code: code, Reason: err, ClientID: clientID})
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprintf(w, "error: %s\n", code)
}

// Authorize plays the user agent for a login: it GETs authURL (an
// authorization request the client built) without following redirects and
// returns the Location it was sent to, the client's callback URL carrying
// code, state and iss, or error, state and iss. It does network I/O
// bounded by ctx. When the server answers without a redirect (an unknown
// client or an unregistered redirect_uri) the error wraps ErrNotRedirected;
// the recorded refusal says why.
func (s *Server) Authorize(ctx context.Context, authURL string) (*url.URL, error) {
	c := *s.HTTPClient()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, fmt.Errorf("providertest: authorize: %w", err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("providertest: authorize: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("providertest: authorize: status %d: %w", resp.StatusCode, ErrNotRedirected)
	}
	loc, err := resp.Location()
	if err != nil {
		return nil, fmt.Errorf("providertest: authorize: redirect without a valid Location: %w", ErrNotRedirected)
	}
	return loc, nil
}
