package providertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Endpoints of token revocation and introspection.
const (
	EndpointRevocation    Endpoint = "revocation"
	EndpointIntrospection Endpoint = "introspection"
)

// Paths of token revocation and introspection, below the issuer.
const (
	RevocationPath    = "/revoke"
	IntrospectionPath = "/introspect"
)

// RevocationEndpoint returns the URL of the token revocation endpoint
// (RFC 7009).
func (s *Server) RevocationEndpoint() string { return s.base + RevocationPath }

// IntrospectionEndpoint returns the URL of the token introspection endpoint
// (RFC 7662).
func (s *Server) IntrospectionEndpoint() string { return s.base + IntrospectionPath }

// authenticatedForm reads the form of a POST to e and authenticates the
// client as the token endpoint does. On failure it answers (400
// invalid_request or 401 invalid_client), records the refusal and returns
// a nil client.
func (s *Server) authenticatedForm(w http.ResponseWriter, r *http.Request, e Endpoint) (*clientState, url.Values) {
	form, err := readForm(r)
	if err != nil {
		s.refuse(w, e, "", invalidRequest(err), "")
		return nil, nil
	}
	cs, claimed, err := s.authenticateClient(r.Context(), r, form)
	if err != nil {
		scheme := "Bearer"
		if a := r.Header.Get("Authorization"); a != "" {
			scheme, _, _ = strings.Cut(a, " ")
		}
		s.refuse(w, e, claimed, &tokenError{http.StatusUnauthorized, "invalid_client", "client authentication failed", err},
			scheme+` realm="providertest", error="invalid_client"`)
		return nil, nil
	}
	if form.Get("token") == "" {
		s.refuse(w, e, cs.ID, invalidRequest(fmt.Errorf("providertest: token missing: %w", ErrInvalidRequest)), "")
		return nil, nil
	}
	return cs, form
}

// serveRevocation is the revocation endpoint (RFC 7009 §2). It answers 200
// for any token, so that it tells nothing about tokens of other clients,
// and revokes the token only when this server issued it to the
// authenticated client. Revoking a refresh token revokes its family (RFC
// 7009 §2.1): every token descending from the same grant. token_type_hint
// is ignored: every token type is searched.
func (s *Server) serveRevocation(w http.ResponseWriter, r *http.Request) {
	cs, form := s.authenticatedForm(w, r, EndpointRevocation)
	if cs == nil {
		return
	}
	s.mu.Lock()
	if t := s.tokens[form.Get("token")]; t != nil && t.clientID == cs.ID {
		t.revoked = true
		if t.refresh {
			for _, o := range s.tokens {
				if o.family == t.family {
					o.revoked = true
				}
			}
		}
	}
	s.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// serveIntrospection is the introspection endpoint (RFC 7662 §2). A live
// (unexpired, unrevoked) access or refresh token this server issued to the
// authenticated client is active; any other token is {"active":false}.
func (s *Server) serveIntrospection(w http.ResponseWriter, r *http.Request) {
	cs, form := s.authenticatedForm(w, r, EndpointIntrospection)
	if cs == nil {
		return
	}
	tok := form.Get("token")
	now := s.now()
	s.mu.Lock()
	var t issuedToken
	active := false
	if p := s.tokens[tok]; p != nil && p.clientID == cs.ID && !p.revoked && now.Before(p.expires) {
		t, active = *p, true
	}
	s.mu.Unlock()
	resp := map[string]any{"active": active}
	if active {
		resp["client_id"] = t.clientID
		resp["sub"] = t.user.Subject
		resp["iss"] = s.issuer
		resp["exp"] = t.expires.Unix()
		if t.scope != "" {
			resp["scope"] = t.scope
		}
		if t.refresh {
			resp["iat"] = t.expires.Add(-refreshTokenLifetime).Unix()
		} else {
			resp["token_type"] = "Bearer"
			resp["iat"] = t.expires.Add(-s.cfg.AccessTokenLifetime).Unix()
			resp["aud"] = t.clientID
		}
		// A JWT token states its own iat, aud and jti.
		if p, err := parseCompact(tok); err == nil {
			for _, k := range []string{"iat", "aud", "jti"} {
				if v, ok := p.claims[k]; ok {
					resp[k] = v
				}
			}
		}
		if t.sid != "" {
			resp["sid"] = t.sid
		}
		if !t.authTime.IsZero() {
			resp["auth_time"] = t.authTime.Unix()
		}
	}
	b, _ := json.Marshal(resp)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.Write(b)
}
