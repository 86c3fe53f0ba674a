package providertest

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/pkjwt/pkjwt/internal/httpread"
)

// Token types of RFC 8693 §3.
const (
	TokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"
	TokenTypeIDToken     = "urn:ietf:params:oauth:token-type:id_token"
	TokenTypeJWT         = "urn:ietf:params:oauth:token-type:jwt"
)

const refreshTokenLifetime = 24 * time.Hour

// codeGrant is an authorization code and what it is bound to.
type codeGrant struct {
	clientID, redirectURI, challenge, nonce, scope, sid string
	user                                                User
	authTime, expires                                   time.Time
	used, revoked                                       bool
	dpopJKT                                             string // RFC 9449 §10: the key the code is bound to
}

// issuedToken is an access or refresh token the server issued.
type issuedToken struct {
	refresh  bool
	clientID string
	user     User
	scope    string
	expires  time.Time
	revoked  bool
	family   string // the code (or first refresh token) it descends from
	authTime time.Time
	sid      string
	jkt      string // RFC 9449: the DPoP key thumbprint the token is bound to
}

// tokenError is a refusal at the token endpoint.
type tokenError struct {
	status int
	code   string
	desc   string // sent to the client; never secret
	reason error
}

func (e *tokenError) Error() string { return e.reason.Error() }
func (e *tokenError) Unwrap() error { return e.reason }

func invalidRequest(err error) *tokenError {
	return &tokenError{http.StatusBadRequest, "invalid_request", "the request is malformed", err}
}

func invalidGrant(err error) *tokenError {
	return &tokenError{http.StatusBadRequest, "invalid_grant", "the grant is invalid, expired, revoked or bound to something else", err}
}

// refuse records a refusal and writes it as RFC 6749 §5.2 JSON.
func (s *Server) refuse(w http.ResponseWriter, e Endpoint, clientID string, te *tokenError, wwwAuth string) {
	s.record(Refusal{Endpoint: e, Status: te.status, Code: te.code, Reason: te.reason, ClientID: clientID})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	if wwwAuth != "" {
		h.Set("WWW-Authenticate", wwwAuth)
	}
	w.WriteHeader(te.status)
	body := map[string]string{"error": te.code}
	if te.desc != "" {
		body["error_description"] = te.desc
	}
	json.NewEncoder(w).Encode(body)
}

func (s *Server) record(r Refusal) {
	r.Time = s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.refusals) >= maxRefusals {
		s.refusals = slices.Delete(s.refusals, 0, len(s.refusals)-maxRefusals+1)
	}
	s.refusals = append(s.refusals, r)
}

// readForm reads an application/x-www-form-urlencoded POST body (bounded),
// refusing repeated parameters (RFC 6749 §3.2).
func readForm(r *http.Request) (url.Values, error) {
	if r.Method != http.MethodPost {
		return nil, fmt.Errorf("providertest: method %s, want POST: %w", r.Method, ErrInvalidRequest)
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, fmt.Errorf("providertest: content type is not application/x-www-form-urlencoded: %w", ErrInvalidRequest)
	}
	b, err := httpread.All(r.Body, maxFormBytes)
	if err != nil {
		return nil, fmt.Errorf("providertest: form body: %v: %w", err, ErrInvalidRequest)
	}
	form, err := url.ParseQuery(string(b))
	if err != nil {
		return nil, fmt.Errorf("providertest: form body does not parse: %w", ErrInvalidRequest)
	}
	if len(r.URL.RawQuery) > 0 {
		return nil, fmt.Errorf("providertest: parameters in the URL query: %w", ErrInvalidRequest)
	}
	for k, v := range form {
		if len(v) > 1 {
			return nil, fmt.Errorf("providertest: parameter %.40q repeated: %w", k, ErrInvalidRequest)
		}
	}
	return form, nil
}

// serveToken is the token endpoint (RFC 6749 §3.2).
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	if s.is(SlowToken) && !s.wait(r.Context()) {
		return
	}
	if s.is(ServerErrorToken) {
		s.record(Refusal{Endpoint: EndpointToken, Status: 500, Code: "server_error", Reason: ErrMisbehaving})
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	form, err := readForm(r)
	if err != nil {
		s.refuse(w, EndpointToken, "", invalidRequest(err), "")
		return
	}
	cs, claimed, err := s.authenticateClient(r.Context(), r, form)
	if err != nil {
		scheme := "Bearer"
		if a := r.Header.Get("Authorization"); a != "" {
			scheme, _, _ = strings.Cut(a, " ")
		}
		s.refuse(w, EndpointToken, claimed, &tokenError{http.StatusUnauthorized, "invalid_client", "client authentication failed", err},
			scheme+` realm="providertest", error="invalid_client"`)
		return
	}
	// DPoP (RFC 9449 §4.3, dpop.go): r then carries the proof's key.
	var ok bool
	if r, ok = s.tokenDPoP(w, r, cs.ID); !ok {
		return
	}
	gt := form.Get("grant_type")
	var te *tokenError
	var resp map[string]any
	switch {
	case gt == "":
		te = invalidRequest(fmt.Errorf("providertest: grant_type missing: %w", ErrInvalidRequest))
	case !slices.Contains(allGrants, gt):
		te = &tokenError{http.StatusBadRequest, "unsupported_grant_type", "", fmt.Errorf("providertest: grant_type %.80q: %w", gt, ErrUnsupportedGrantType)}
	case !slices.Contains(cs.GrantTypes, gt):
		te = &tokenError{http.StatusBadRequest, "unauthorized_client", "", fmt.Errorf("providertest: client %q may not use %s: %w", cs.ID, gt, ErrUnauthorizedClient)}
	default:
		var err error
		switch gt {
		case GrantAuthorizationCode:
			resp, err = s.grantCode(r.Context(), cs, form)
		case GrantRefreshToken:
			resp, err = s.grantRefresh(r.Context(), cs, form)
		case GrantClientCredentials:
			resp, err = s.grantClientCredentials(r.Context(), cs, form)
		case GrantJWTBearer:
			resp, err = s.grantJWTBearer(r.Context(), cs, form)
		case GrantTokenExchange:
			resp, err = s.grantTokenExchange(r.Context(), cs, form)
		}
		if err != nil && !errors.As(err, &te) {
			te = &tokenError{http.StatusInternalServerError, "server_error", "", err}
		}
	}
	if te != nil {
		s.refuse(w, EndpointToken, cs.ID, te, "")
		return
	}
	s.writeTokenResponse(w, resp)
}

func (s *Server) writeTokenResponse(w http.ResponseWriter, resp map[string]any) {
	s.mu.Lock()
	m := map[Misbehavior]bool{
		TokenNoIDToken: s.on(TokenNoIDToken), TokenIDTokenWrongType: s.on(TokenIDTokenWrongType),
		TokenErrorIn200: s.on(TokenErrorIn200), OversizedToken: s.on(OversizedToken),
	}
	s.mu.Unlock()
	if m[TokenNoIDToken] {
		delete(resp, "id_token")
	}
	if m[TokenIDTokenWrongType] {
		resp["id_token"] = 12345
	}
	if m[TokenErrorIn200] {
		resp["error"] = "server_error"
		resp["error_description"] = "an error member in a 200 response"
	}
	if m[OversizedToken] {
		resp["x_padding"] = ""
	}
	b, _ := json.Marshal(resp)
	if m[OversizedToken] {
		b = pad(b, s.cfg.OversizeBytes)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.Write(b)
}

// pad grows a JSON document that ends in `"x_padding":""}` to n bytes.
func pad(b []byte, n int) []byte {
	const tail = `"x_padding":""}`
	if len(b) >= n || !strings.HasSuffix(string(b), tail) {
		return b
	}
	head := b[:len(b)-2]
	out := make([]byte, 0, n)
	out = append(out, head...)
	for len(out) < n-2 {
		out = append(out, 'x')
	}
	return append(out, '"', '}')
}

// issue creates an access token (and a refresh token when refresh is set)
// and remembers them. It returns the token response members.
func (s *Server) issue(ctx context.Context, cs *clientState, user User, scope, family string, authTime time.Time, sid string, refresh bool, aud []string) (map[string]any, *issuedToken, error) {
	now := s.now()
	jkt := dpopJKT(ctx)
	at := &issuedToken{clientID: cs.ID, user: user, scope: scope, expires: now.Add(s.cfg.AccessTokenLifetime), family: family, authTime: authTime, sid: sid, jkt: jkt}
	access, err := s.newTokenString(ctx, at, aud)
	if err != nil {
		return nil, nil, err
	}
	resp := map[string]any{
		"access_token": access,
		"token_type":   s.tokenType(jkt),
		"expires_in":   int64(s.cfg.AccessTokenLifetime / time.Second),
	}
	if scope != "" {
		resp["scope"] = scope
	}
	toks := map[string]*issuedToken{access: at}
	if refresh {
		rt := &issuedToken{refresh: true, clientID: cs.ID, user: user, scope: scope, expires: now.Add(refreshTokenLifetime), family: family, authTime: authTime, sid: sid, jkt: jkt}
		rs, err := s.newTokenString(ctx, rt, nil)
		if err != nil {
			return nil, nil, err
		}
		resp["refresh_token"] = rs
		toks[rs] = rt
	}
	s.mu.Lock()
	revoked := false
	if c := s.codes[family]; c != nil && c.revoked {
		revoked = true
	}
	for k, t := range toks {
		t.revoked = revoked
		s.tokens[k] = t
	}
	// Forget expired tokens now and then, so memory stays bounded.
	if len(s.tokens) > maxTokens {
		for k, t := range s.tokens {
			if !now.Before(t.expires) {
				delete(s.tokens, k)
			}
		}
	}
	s.mu.Unlock()
	return resp, at, nil
}

func (s *Server) newTokenString(ctx context.Context, t *issuedToken, aud []string) (string, error) {
	if s.cfg.AccessTokens != TokenJWT {
		return randomString(32), nil
	}
	now := s.now()
	c := map[string]any{
		"iss": s.issuer, "sub": t.user.Subject, "client_id": t.clientID,
		"iat": now.Unix(), "exp": t.expires.Unix(), "jti": randomString(16),
	}
	if t.scope != "" {
		c["scope"] = t.scope
	}
	if t.jkt != "" && !t.refresh {
		c["cnf"] = map[string]any{"jkt": t.jkt} // RFC 9449 §6.1
	}
	typ := "at+jwt"
	if t.refresh {
		typ = "rt+jwt"
		c["aud"] = s.issuer
	} else if len(aud) > 0 {
		c["aud"] = aud
	} else {
		c["aud"] = t.clientID
	}
	return s.jwtToken(ctx, typ, c)
}

// grantCode redeems an authorization code (RFC 6749 §4.1.3, RFC 7636 §4.6).
func (s *Server) grantCode(ctx context.Context, cs *clientState, form url.Values) (map[string]any, error) {
	code := form.Get("code")
	if code == "" {
		return nil, invalidRequest(fmt.Errorf("providertest: code missing: %w", ErrInvalidRequest))
	}
	now := s.now()
	s.mu.Lock()
	c := s.codes[code]
	switch {
	case c == nil || !now.Before(c.expires):
		s.mu.Unlock()
		return nil, invalidGrant(fmt.Errorf("providertest: code unknown or expired: %w", ErrInvalidCode))
	case c.used:
		c.revoked = true
		for _, t := range s.tokens {
			if t.family == code {
				t.revoked = true
			}
		}
		s.mu.Unlock()
		return nil, invalidGrant(fmt.Errorf("providertest: code already redeemed; its tokens are revoked: %w", ErrCodeReused))
	case c.clientID != cs.ID:
		s.mu.Unlock()
		return nil, invalidGrant(fmt.Errorf("providertest: code issued to client %q, redeemed by %q: %w", c.clientID, cs.ID, ErrCodeClientMismatch))
	case form.Get("redirect_uri") != c.redirectURI:
		s.mu.Unlock()
		return nil, invalidGrant(fmt.Errorf("providertest: redirect_uri %.100q differs from the authorization request's: %w", form.Get("redirect_uri"), ErrRedirectURI))
	}
	v := form.Get("code_verifier")
	if !validVerifier(v) {
		s.mu.Unlock()
		return nil, invalidGrant(fmt.Errorf("providertest: code_verifier missing or not 43–128 unreserved characters: %w", ErrPKCE))
	}
	sum := sha256.Sum256([]byte(v))
	if b64enc(sum[:]) != c.challenge {
		s.mu.Unlock()
		return nil, invalidGrant(fmt.Errorf("providertest: code_verifier does not match code_challenge: %w", ErrPKCE))
	}
	if err := checkDPoPBinding("code", c.dpopJKT, dpopJKT(ctx)); err != nil {
		s.mu.Unlock()
		return nil, invalidGrant(err)
	}
	c.used = true
	grant := *c
	s.mu.Unlock()

	refresh := slices.Contains(cs.GrantTypes, GrantRefreshToken)
	resp, _, err := s.issue(ctx, cs, grant.user, grant.scope, code, grant.authTime, grant.sid, refresh, nil)
	if err != nil {
		return nil, err
	}
	idt, err := s.idToken(ctx, idTokenParams{clientID: cs.ID, user: grant.user, nonce: grant.nonce, authTime: grant.authTime, sid: grant.sid, accessToken: resp["access_token"].(string)})
	if err != nil {
		return nil, err
	}
	resp["id_token"] = idt
	return resp, nil
}

// validVerifier checks RFC 7636 §4.1: 43–128 characters of [A-Za-z0-9-._~].
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// grantRefresh redeems a refresh token (RFC 6749 §6), rotating it. A
// rotated-out refresh token presented again revokes its whole family.
func (s *Server) grantRefresh(ctx context.Context, cs *clientState, form url.Values) (map[string]any, error) {
	rt := form.Get("refresh_token")
	if rt == "" {
		return nil, invalidRequest(fmt.Errorf("providertest: refresh_token missing: %w", ErrInvalidRequest))
	}
	now := s.now()
	s.mu.Lock()
	t := s.tokens[rt]
	switch {
	case t == nil || !t.refresh || t.clientID != cs.ID || !now.Before(t.expires):
		s.mu.Unlock()
		return nil, invalidGrant(fmt.Errorf("providertest: refresh token unknown, expired or not the client's: %w", ErrInvalidRefreshToken))
	case t.revoked:
		for _, o := range s.tokens {
			if o.family == t.family {
				o.revoked = true
			}
		}
		s.mu.Unlock()
		return nil, invalidGrant(fmt.Errorf("providertest: refresh token revoked or already used; its family is revoked: %w", ErrInvalidRefreshToken))
	}
	if err := checkDPoPBinding("refresh token", t.jkt, dpopJKT(ctx)); err != nil {
		s.mu.Unlock()
		return nil, invalidGrant(err)
	}
	scope := t.scope
	if sc := form.Get("scope"); sc != "" {
		for _, x := range strings.Fields(sc) {
			if !slices.Contains(strings.Fields(t.scope), x) {
				s.mu.Unlock()
				return nil, &tokenError{http.StatusBadRequest, "invalid_scope", "", fmt.Errorf("providertest: scope %.40q was not granted: %w", x, ErrScope)}
			}
		}
		scope = sc
	}
	t.revoked = true
	old := *t
	s.mu.Unlock()

	resp, _, err := s.issue(ctx, cs, old.user, scope, old.family, old.authTime, old.sid, true, nil)
	if err != nil {
		return nil, err
	}
	if slices.Contains(strings.Fields(scope), "openid") {
		idt, err := s.idToken(ctx, idTokenParams{clientID: cs.ID, user: old.user, authTime: old.authTime, sid: old.sid, accessToken: resp["access_token"].(string)})
		if err != nil {
			return nil, err
		}
		resp["id_token"] = idt
	}
	return resp, nil
}

// grantClientCredentials issues an access token whose subject is the client
// (RFC 6749 §4.4).
func (s *Server) grantClientCredentials(ctx context.Context, cs *clientState, form url.Values) (map[string]any, error) {
	resp, _, err := s.issue(ctx, cs, User{Subject: cs.ID}, form.Get("scope"), "cc:"+randomString(8), s.now(), "", false, nil)
	return resp, err
}

// grantJWTBearer takes a JWT authorization grant (RFC 7523 §2.1): signed by
// the client's registered keys, iss the client, sub the user, aud as for
// client assertions, with exp, iat and a jti never seen before.
func (s *Server) grantJWTBearer(ctx context.Context, cs *clientState, form url.Values) (map[string]any, error) {
	raw := form.Get("assertion")
	if raw == "" {
		return nil, invalidRequest(fmt.Errorf("providertest: assertion missing: %w", ErrInvalidRequest))
	}
	bad := func(err error) error {
		return invalidGrant(fmt.Errorf("providertest: jwt-bearer grant: %w: %w", ErrInvalidGrantAssertion, err))
	}
	p, err := parseCompact(raw)
	if err != nil {
		return nil, bad(err)
	}
	if err := s.verifySignature(ctx, p, cs); err != nil {
		return nil, bad(err)
	}
	if iss, _ := p.claims["iss"].(string); iss != cs.ID {
		return nil, bad(fmt.Errorf("providertest: iss is not client %q: %w", cs.ID, ErrIssuer))
	}
	sub, _ := p.claims["sub"].(string)
	if sub == "" {
		return nil, bad(fmt.Errorf("providertest: sub missing: %w", ErrSubject))
	}
	if err := s.checkAudience(p.claims["aud"]); err != nil {
		return nil, bad(err)
	}
	if t, ok := p.header["typ"]; ok {
		if ts, _ := t.(string); !strings.EqualFold(strings.TrimPrefix(strings.ToLower(ts), "application/"), "jwt") {
			return nil, bad(fmt.Errorf("providertest: typ %.40q is not JWT: %w", fmt.Sprint(t), ErrType))
		}
	}
	exp, err := s.checkTimes(p.claims)
	if err != nil {
		return nil, bad(err)
	}
	jti, _ := p.claims["jti"].(string)
	if jti == "" {
		return nil, bad(fmt.Errorf("providertest: jti missing: %w", ErrMissingJTI))
	}
	if err := s.rememberJTI("grant\x00"+cs.ID, jti, exp); err != nil {
		return nil, bad(err)
	}
	user := s.userFor(sub)
	resp, _, err := s.issue(ctx, cs, user, form.Get("scope"), "jwt:"+randomString(8), s.now(), "", false, nil)
	return resp, err
}

// userFor returns the configured user when sub is theirs, else a user with
// sub alone.
func (s *Server) userFor(sub string) User {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sub == s.user.Subject {
		return s.user
	}
	return User{Subject: sub}
}

// grantTokenExchange exchanges a token this server issued for a new access
// token (RFC 8693 §2). The subject token is an access token of this server,
// or an ID token or JWT signed by one of its published keys with its iss
// and an unexpired exp.
func (s *Server) grantTokenExchange(ctx context.Context, cs *clientState, form url.Values) (map[string]any, error) {
	st, stt := form.Get("subject_token"), form.Get("subject_token_type")
	if st == "" || stt == "" {
		return nil, invalidRequest(fmt.Errorf("providertest: subject_token and subject_token_type are required: %w", ErrInvalidRequest))
	}
	if rt := form.Get("requested_token_type"); rt != "" && rt != TokenTypeAccessToken {
		return nil, invalidRequest(fmt.Errorf("providertest: requested_token_type %.80q not supported: %w", rt, ErrInvalidRequest))
	}
	if form.Get("actor_token") != "" && form.Get("actor_token_type") == "" {
		return nil, invalidRequest(fmt.Errorf("providertest: actor_token without actor_token_type: %w", ErrInvalidRequest))
	}
	bad := invalidGrant(fmt.Errorf("providertest: subject token not valid here: %w", ErrInvalidSubjectToken))
	var sub string
	switch stt {
	case TokenTypeAccessToken:
		now := s.now()
		s.mu.Lock()
		t := s.tokens[st]
		if t == nil || t.refresh || t.revoked || !now.Before(t.expires) {
			s.mu.Unlock()
			return nil, bad
		}
		sub = t.user.Subject
		s.mu.Unlock()
	case TokenTypeIDToken, TokenTypeJWT:
		var err error
		if sub, err = s.verifyOwnJWT(st); err != nil {
			return nil, bad
		}
	default:
		return nil, invalidRequest(fmt.Errorf("providertest: subject_token_type %.80q not supported: %w", stt, ErrInvalidRequest))
	}
	var aud []string
	aud = append(aud, form["audience"]...)
	aud = append(aud, form["resource"]...)
	resp, _, err := s.issue(ctx, cs, s.userFor(sub), form.Get("scope"), "tx:"+randomString(8), s.now(), "", false, aud)
	if err != nil {
		return nil, err
	}
	resp["issued_token_type"] = TokenTypeAccessToken
	return resp, nil
}

// verifyOwnJWT verifies a JWT signed by one of the server's published keys,
// with iss the issuer and exp in the future. It returns sub.
func (s *Server) verifyOwnJWT(raw string) (string, error) {
	s.mu.Lock()
	keys := s.keys.published()
	alg := s.cfg.IDTokenAlgorithm
	s.mu.Unlock()
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	if err != nil || len(jws.Signatures) != 1 {
		return "", ErrInvalidSubjectToken
	}
	for _, k := range keys {
		if jws.Signatures[0].Header.KeyID != "" && jws.Signatures[0].Header.KeyID != k.KeyID() {
			continue
		}
		payload, err := jws.Verify(k.Public())
		if err != nil {
			continue
		}
		claims, err := decodeObject(payload)
		if err != nil {
			return "", ErrInvalidSubjectToken
		}
		exp, ok := numericDate(claims["exp"])
		sub, _ := claims["sub"].(string)
		if iss, _ := claims["iss"].(string); iss != s.issuer || !ok || !s.now().Before(exp) || sub == "" {
			return "", ErrInvalidSubjectToken
		}
		return sub, nil
	}
	return "", ErrInvalidSubjectToken
}
