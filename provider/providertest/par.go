package providertest

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// RequestURIPrefix starts every request_uri the PAR endpoint issues (RFC
// 9126 §2.2).
const RequestURIPrefix = "urn:ietf:params:oauth:request_uri:"

// parRedirectedPath is where the PARRedirect misbehavior sends clients.
const parRedirectedPath = "/par-redirected"

// Reasons the server refuses a pushed authorization request or its use.
var (
	// ErrPARRequired: Config.RequirePushedAuthorizationRequests is set and
	// the authorization request carries no request_uri.
	ErrPARRequired = errors.New("providertest: pushed authorization request required")
	// ErrInvalidRequestURI: the request_uri is unknown, was pushed by
	// another client (or client_id is missing), or a parameter sent beside
	// it differs from the pushed one.
	ErrInvalidRequestURI = errors.New("providertest: invalid request_uri")
	// ErrRequestURIReused: the request_uri was used before; it is single use.
	ErrRequestURIReused = errors.New("providertest: request_uri reused")
	// ErrRequestURIExpired: the request_uri is past its expires_in.
	ErrRequestURIExpired = errors.New("providertest: request_uri expired")
)

// pushedRequest is an authorization request received at the PAR endpoint.
type pushedRequest struct {
	clientID string
	params   url.Values // the authorization parameters, client_id and dpop_jkt included
	expires  time.Time
	used     bool
}

// PAREndpoint returns the URL of the pushed authorization request endpoint
// (RFC 9126), published as pushed_authorization_request_endpoint.
func (s *Server) PAREndpoint() string { return s.base + PARPath }

// addFAPIMetadata adds the PAR and DPoP members to the discovery document.
func (s *Server) addFAPIMetadata(doc map[string]any, ep func(string) string) {
	var algs []string
	for _, a := range s.cfg.DPoPAlgorithms {
		algs = append(algs, string(a))
	}
	doc["pushed_authorization_request_endpoint"] = ep(s.PAREndpoint())
	doc["require_pushed_authorization_requests"] = s.cfg.RequirePushedAuthorizationRequests
	doc["dpop_signing_alg_values_supported"] = algs
}

// servePAR is the pushed authorization request endpoint (RFC 9126 §2): a
// form POST with the authorization parameters and the client's assertion,
// optionally a DPoP proof or dpop_jkt (RFC 9449 §10) that binds the code.
func (s *Server) servePAR(w http.ResponseWriter, r *http.Request) {
	if s.is(PARRedirect) {
		s.record(Refusal{Endpoint: EndpointPAR, Status: http.StatusTemporaryRedirect, Reason: fmt.Errorf("providertest: PARRedirect switched on: %w", ErrMisbehaving)})
		w.Header().Set("Location", s.base+parRedirectedPath)
		w.WriteHeader(http.StatusTemporaryRedirect)
		return
	}
	form, err := readForm(r)
	if err != nil {
		s.refuse(w, EndpointPAR, "", invalidRequest(err), "")
		return
	}
	cs, claimed, err := s.authenticateClient(r.Context(), r, form)
	if err != nil {
		s.refuse(w, EndpointPAR, claimed, &tokenError{http.StatusUnauthorized, "invalid_client", "client authentication failed", err},
			`Bearer realm="providertest", error="invalid_client"`)
		return
	}
	var jkt string
	if len(r.Header.Values("DPoP")) > 0 {
		if jkt, err = s.verifyDPoP(r, http.MethodPost, s.PAREndpoint(), ""); err != nil {
			s.refuseDPoP(w, EndpointPAR, cs.ID, err)
			return
		}
	}
	if te := checkPushed(cs, form, jkt); te != nil {
		s.refuse(w, EndpointPAR, cs.ID, te, "")
		return
	}
	params := maps.Clone(form)
	delete(params, "client_assertion")
	delete(params, "client_assertion_type")
	params.Set("client_id", cs.ID)
	if jkt != "" {
		params.Set("dpop_jkt", jkt)
	}
	now, life := s.now(), s.cfg.PARLifetime
	if s.is(PARExpiredRequestURI) {
		life = 0
	}
	uri := RequestURIPrefix + randomString(24)
	f := &s.fapi
	f.mu.Lock()
	if f.pushed == nil {
		f.pushed = map[string]*pushedRequest{}
	}
	// Forget expired requests now and then, so memory stays bounded.
	if len(f.pushed) > 1024 {
		for k, p := range f.pushed {
			if !now.Before(p.expires) {
				delete(f.pushed, k)
			}
		}
	}
	f.pushed[uri] = &pushedRequest{clientID: cs.ID, params: params, expires: now.Add(life)}
	f.mu.Unlock()
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{"request_uri": uri, "expires_in": int64(life / time.Second)})
}

// checkPushed validates a pushed request as the authorization endpoint
// would (RFC 9126 §2.1), with jkt the key of its DPoP proof, if any.
func checkPushed(cs *clientState, form url.Values, jkt string) *tokenError {
	bad := func(format string, sentinel error, a ...any) *tokenError {
		return invalidRequest(fmt.Errorf("providertest: "+format+": %w", append(a, sentinel)...))
	}
	switch {
	case form.Has("request_uri"):
		return bad("request_uri in a pushed request", ErrInvalidRequest)
	case form.Has("request"):
		return bad("request objects are not supported", ErrInvalidRequest)
	case !slices.Contains(cs.RedirectURIs, form.Get("redirect_uri")):
		return bad("redirect_uri %.100q is not registered for client %q", ErrRedirectURI, form.Get("redirect_uri"), cs.ID)
	case form.Get("response_type") != "code":
		return bad("response_type %.40q, want code", ErrInvalidRequest, form.Get("response_type"))
	case !slices.Contains(cs.GrantTypes, GrantAuthorizationCode):
		return &tokenError{http.StatusBadRequest, "unauthorized_client", "", fmt.Errorf("providertest: client %q may not use the authorization code grant: %w", cs.ID, ErrUnauthorizedClient)}
	case !slices.Contains(strings.Fields(form.Get("scope")), "openid"):
		return &tokenError{http.StatusBadRequest, "invalid_scope", "", fmt.Errorf("providertest: scope lacks openid: %w", ErrScope)}
	case form.Get("code_challenge_method") != "S256" || !validChallenge(form.Get("code_challenge")):
		return bad("PKCE with S256 and a 43-character code_challenge is required", ErrPKCE)
	}
	if dj, ok := form["dpop_jkt"]; ok {
		if len(dj[0]) != 43 || !validChallenge(dj[0]) {
			return bad("dpop_jkt is not a SHA-256 thumbprint", ErrInvalidRequest)
		}
		if jkt != "" && dj[0] != jkt {
			return bad("dpop_jkt differs from the DPoP proof's key", ErrDPoPKeyMismatch)
		}
	}
	return nil
}

// resolvePushed replaces an authorization request carrying a request_uri
// from the PAR endpoint by the pushed request (RFC 9126 §4), spending the
// request_uri, and refuses a plain request when PAR is required. A refusal
// answers 400 without redirecting. A request_uri of another form is left
// for the authorization endpoint to refuse. It reports whether the handler
// should go on.
func (s *Server) resolvePushed(w http.ResponseWriter, q url.Values) (url.Values, bool) {
	clientID, ru := q.Get("client_id"), q.Get("request_uri")
	if ru == "" {
		if s.cfg.RequirePushedAuthorizationRequests {
			s.authorizePage(w, clientID, fmt.Errorf("providertest: authorization request without request_uri: %w", ErrPARRequired))
			return nil, false
		}
		return q, true
	}
	if !strings.HasPrefix(ru, RequestURIPrefix) {
		return q, true
	}
	now := s.now()
	f := &s.fapi
	f.mu.Lock()
	p := f.pushed[ru]
	var err error
	switch {
	case p == nil:
		err = fmt.Errorf("providertest: request_uri unknown: %w", ErrInvalidRequestURI)
	case p.clientID != clientID:
		err = fmt.Errorf("providertest: request_uri was pushed by client %q, client_id is %.60q: %w", p.clientID, clientID, ErrInvalidRequestURI)
	case p.used:
		err = fmt.Errorf("providertest: request_uri used before: %w", ErrRequestURIReused)
	case !now.Before(p.expires):
		err = fmt.Errorf("providertest: request_uri expired at %s (now %s): %w", p.expires.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), ErrRequestURIExpired)
	}
	if err == nil {
		for k, v := range q {
			if k == "request_uri" || k == "client_id" {
				continue
			}
			if pv, ok := p.params[k]; ok && pv[0] != v[0] {
				err = fmt.Errorf("providertest: parameter %.40q differs from the pushed request's: %w", k, ErrInvalidRequestURI)
				break
			}
		}
	}
	var params url.Values
	if err == nil {
		p.used = true
		params = maps.Clone(p.params)
	}
	f.mu.Unlock()
	if err != nil {
		s.authorizePage(w, clientID, err)
		return nil, false
	}
	return params, true
}

// serveParRedirected is the target of the PARRedirect misbehavior: a client
// that arrives here followed a redirect with its credentials.
func (s *Server) serveParRedirected(w http.ResponseWriter, _ *http.Request) {
	s.refuse(w, EndpointPARRedirected, "", invalidRequest(fmt.Errorf("providertest: a client followed the PARRedirect redirect: %w", ErrMisbehaving)), "")
}
