package providertest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/pkjwt/pkjwt/provider/providertest"
)

const postLogoutURI = "https://app.example/logged-out"

// receiver is a client's backchannel_logout_uri: it keeps the logout
// tokens POSTed to it and answers status.
type receiver struct {
	URL string

	// guards tokens, status
	mu     sync.Mutex
	tokens []string
	status int
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	rc := &receiver{status: http.StatusOK}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		rc.mu.Lock()
		if r.Method == http.MethodPost && r.Header.Get("Content-Type") == "application/x-www-form-urlencoded" {
			rc.tokens = append(rc.tokens, r.PostForm.Get("logout_token"))
		}
		st := rc.status
		rc.mu.Unlock()
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(st)
		io.WriteString(w, "answer")
	}))
	t.Cleanup(srv.Close)
	rc.URL = srv.URL + "/backchannel"
	return rc
}

func (rc *receiver) received() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.tokens...)
}

// logoutClient is the test client with logout URIs.
func logoutClient(rc *receiver) providertest.Client {
	c := testClient()
	c.PostLogoutRedirectURIs = []string{postLogoutURI}
	if rc != nil {
		c.BackchannelLogoutURI = rc.URL
	}
	return c
}

func TestSendLogoutToken(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t)
	s, _ := newServer(t, providertest.Config{Clients: []providertest.Client{logoutClient(rc)}})
	status, body, err := s.SendLogoutToken(t.Context(), clientID, providertest.Logout{Subject: "alice", SessionID: "sid-1"})
	if err != nil || status != 200 || string(body) != "answer" {
		t.Fatalf("SendLogoutToken: %d %q %v", status, body, err)
	}
	got := rc.received()
	if len(got) != 1 {
		t.Fatalf("the receiver got %d logout tokens, want 1", len(got))
	}
	typ, c := verifyJWT(t, s, got[0], jose.RS256)
	if typ != "logout+jwt" {
		t.Errorf("typ %q, want logout+jwt", typ)
	}
	want := map[string]any{"iss": s.Issuer(), "aud": clientID, "sub": "alice", "sid": "sid-1", "iat": float64(t0.Unix()), "exp": float64(t0.Add(2 * time.Minute).Unix())}
	for k, v := range want {
		if c[k] != v {
			t.Errorf("logout token %s = %v, want %v", k, c[k], v)
		}
	}
	if jti, _ := c["jti"].(string); jti == "" {
		t.Errorf("logout token has no jti")
	}
	if _, ok := c["nonce"]; ok {
		t.Errorf("logout token has a nonce")
	}
	if toJSON(c["events"]) != `{"`+providertest.BackchannelLogoutEvent+`":{}}` {
		t.Errorf("events = %s", toJSON(c["events"]))
	}
	if n := s.Count(providertest.EndpointBackchannelLogout); n != 1 {
		t.Errorf("Count(EndpointBackchannelLogout) = %d, want 1", n)
	}

	// sub alone, sid alone, and the client's answer passed on.
	rc.mu.Lock()
	rc.status = http.StatusBadRequest
	rc.mu.Unlock()
	for _, l := range []providertest.Logout{{Subject: "alice"}, {SessionID: "sid-2"}} {
		status, _, err := s.SendLogoutToken(t.Context(), clientID, l)
		if err != nil || status != 400 {
			t.Errorf("SendLogoutToken(%+v): %d %v, want the client's 400", l, status, err)
		}
		got := rc.received()
		_, c := verifyJWT(t, s, got[len(got)-1], jose.RS256)
		if c["sub"] != nilIfEmpty(l.Subject) || c["sid"] != nilIfEmpty(l.SessionID) {
			t.Errorf("SendLogoutToken(%+v): sub %v sid %v", l, c["sub"], c["sid"])
		}
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func TestSendLogoutTokenRefusals(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t)
	noURI := testClient()
	noURI.ID = "no-uri"
	needsSID := logoutClient(rc)
	needsSID.ID = "needs-sid"
	needsSID.BackchannelLogoutSessionRequired = true
	s, _ := newServer(t, providertest.Config{Clients: []providertest.Client{logoutClient(rc), noURI, needsSID}})
	for _, tc := range []struct {
		name, client string
		l            providertest.Logout
		want         error
	}{
		{"unknown client", "nobody", providertest.Logout{Subject: "a"}, providertest.ErrUnknownClient},
		{"no backchannel_logout_uri", "no-uri", providertest.Logout{Subject: "a"}, providertest.ErrInvalidRequest},
		{"neither sub nor sid", clientID, providertest.Logout{}, providertest.ErrInvalidRequest},
		{"session required", "needs-sid", providertest.Logout{Subject: "a"}, providertest.ErrInvalidRequest},
	} {
		if _, _, err := s.SendLogoutToken(t.Context(), tc.client, tc.l); !errors.Is(err, tc.want) {
			t.Errorf("SendLogoutToken(%s) error = %v, want %v", tc.name, err, tc.want)
		}
	}
	if n := len(rc.received()); n != 0 {
		t.Errorf("%d logout tokens sent, want none", n)
	}
	if _, _, err := s.SendLogoutToken(t.Context(), "needs-sid", providertest.Logout{SessionID: "sid"}); err != nil {
		t.Errorf("SendLogoutToken with sid to a client that requires it: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, _, err := s.SendLogoutToken(ctx, clientID, providertest.Logout{Subject: "a"}); !errors.Is(err, context.Canceled) {
		t.Errorf("SendLogoutToken with a canceled context: %v, want context.Canceled", err)
	}

	// Registration refuses logout URIs a test server must not use.
	for _, c := range []providertest.Client{
		{BackchannelLogoutURI: "https://rp.example/logout"},
		{BackchannelLogoutURI: "http://10.0.0.1/logout"},
		{BackchannelLogoutURI: "http://127.0.0.1/logout#f"},
		{BackchannelLogoutURI: "ftp://127.0.0.1/logout"},
		{PostLogoutRedirectURIs: []string{"/relative"}},
		{PostLogoutRedirectURIs: []string{"https://app.example/out#f"}},
	} {
		c.ID, c.JWKS = "bad", testClient().JWKS
		if err := s.RegisterClient(c); err == nil {
			t.Errorf("RegisterClient(%q %q) succeeded", c.BackchannelLogoutURI, c.PostLogoutRedirectURIs)
		}
	}
	for _, u := range []string{"http://localhost:8080/logout", "http://[::1]/x?y=1", rc.URL} {
		c := logoutClient(nil)
		c.BackchannelLogoutURI = u
		if err := s.RegisterClient(c); err != nil {
			t.Errorf("RegisterClient(%q): %v", u, err)
		}
	}
}

func TestLogoutTokenMisbehaviors(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t)
	s, _ := newServer(t, providertest.Config{Clients: []providertest.Client{logoutClient(rc)}})
	var lastJTI any // of the last token sent
	send := func() (string, map[string]any) {
		t.Helper()
		if _, _, err := s.SendLogoutToken(t.Context(), clientID, providertest.Logout{Subject: "alice", SessionID: "sid-1"}); err != nil {
			t.Fatal(err)
		}
		got := rc.received()
		typ, c := verifyJWT(t, s, got[len(got)-1], jose.RS256)
		lastJTI = c["jti"]
		return typ, c
	}
	_, first := send()
	_, second := send()
	if first["jti"] == second["jti"] {
		t.Fatalf("two well-behaved logout tokens share jti %v", first["jti"])
	}
	var prevJTI any // of the token sent before the one checked
	for _, tc := range []struct {
		m     providertest.Misbehavior
		check func(typ string, c map[string]any) bool
	}{
		{providertest.LogoutTokenNonce, func(_ string, c map[string]any) bool { return c["nonce"] != nil }},
		{providertest.LogoutTokenNoEvents, func(_ string, c map[string]any) bool { _, ok := c["events"]; return !ok }},
		{providertest.LogoutTokenWrongTyp, func(typ string, _ map[string]any) bool { return typ != "logout+jwt" && typ != "" }},
		{providertest.LogoutTokenReplay, func(_ string, c map[string]any) bool { return c["jti"] == prevJTI }},
		{providertest.LogoutTokenOtherSubject, func(_ string, c map[string]any) bool {
			return c["sub"] != "alice" && c["sub"] != nil && c["sid"] == "sid-1"
		}},
	} {
		prevJTI = lastJTI
		s.Misbehave(tc.m)
		typ, c := send()
		s.Reset()
		if !tc.check(typ, c) {
			t.Errorf("%s: typ %q claims %s", tc.m, typ, toJSON(c))
		}
		// Everything else stays as it should.
		if tc.m != providertest.LogoutTokenWrongTyp && typ != "logout+jwt" {
			t.Errorf("%s: typ %q", tc.m, typ)
		}
		if c["iss"] != s.Issuer() || c["aud"] != clientID {
			t.Errorf("%s: iss %v aud %v", tc.m, c["iss"], c["aud"])
		}
		if tc.m == providertest.LogoutTokenReplay {
			// After Reset, a token has a fresh jti again.
			if _, c := send(); c["jti"] == prevJTI {
				t.Errorf("jti still replayed after Reset")
			}
		}
	}
}

// endSessionURL builds a logout request.
func endSessionURL(s *providertest.Server, q url.Values) string {
	return s.EndSessionEndpoint() + "?" + q.Encode()
}

func TestEndSession(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t)
	s, clk := newServer(t, providertest.Config{IDTokenLifetime: time.Minute, Clients: []providertest.Client{logoutClient(rc)}})
	tok := login(t, s, t0)
	other := login(t, s, t0) // a second session of the same user
	_, idc := verifyJWT(t, s, tok["id_token"].(string), jose.RS256)
	sid, _ := idc["sid"].(string)
	if sid == "" {
		t.Fatal("the ID token has no sid")
	}
	// An expired hint is still a hint (RP-Initiated Logout 1.0 §2).
	clk.Advance(2 * time.Minute)
	loc, err := s.EndSession(t.Context(), endSessionURL(s, url.Values{
		"id_token_hint": {tok["id_token"].(string)}, "client_id": {clientID},
		"post_logout_redirect_uri": {postLogoutURI}, "state": {"st-1"},
	}))
	if err != nil {
		t.Fatalf("EndSession: %v", err)
	}
	if loc.String() != postLogoutURI+"?state=st-1" {
		t.Errorf("EndSession redirected to %q, want %s?state=st-1", loc, postLogoutURI)
	}
	if !s.SessionEnded(sid) {
		t.Errorf("SessionEnded(sid) = false")
	}
	// The session's tokens are revoked; the other session's are not.
	if st, _, _ := userinfo(t, s, tok["access_token"].(string)); st != 401 {
		t.Errorf("userinfo after logout: %d, want 401", st)
	}
	if st, _, _ := userinfo(t, s, other["access_token"].(string)); st != 200 {
		t.Errorf("userinfo of the other session after logout: %d, want 200", st)
	}
	// The client was told, with sub and sid.
	got := rc.received()
	if len(got) != 1 {
		t.Fatalf("%d logout tokens sent, want 1", len(got))
	}
	if typ, c := verifyJWT(t, s, got[0], jose.RS256); typ != "logout+jwt" || c["sid"] != sid || c["sub"] != idc["sub"] || c["aud"] != clientID {
		t.Errorf("logout token typ %q claims %s", typ, toJSON(c))
	}
	// Ending it again redirects and tells nobody twice.
	if _, err := s.EndSession(t.Context(), endSessionURL(s, url.Values{"id_token_hint": {tok["id_token"].(string)}})); err != nil {
		t.Errorf("second EndSession: %v", err)
	}
	if n := len(rc.received()); n != 1 {
		t.Errorf("%d logout tokens after the second logout, want 1", n)
	}

	// POST, without a hint: every session of the configured user ends;
	// without post_logout_redirect_uri there is no redirect.
	hc := s.HTTPClient()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.PostForm(s.EndSessionEndpoint(), url.Values{"client_id": {clientID}, "post_logout_redirect_uri": {postLogoutURI}, "state": {"st-2"}})
	if err != nil {
		t.Fatal(err)
	}
	drain(resp)
	if l, _ := resp.Location(); resp.StatusCode != http.StatusFound || l == nil || l.Query().Get("state") != "st-2" {
		t.Errorf("POST end_session: %d %v", resp.StatusCode, l)
	}
	if st, _, _ := userinfo(t, s, other["access_token"].(string)); st != 401 {
		t.Errorf("userinfo of the other session after a logout without hint: %d, want 401", st)
	}
	if n := len(rc.received()); n != 2 {
		t.Errorf("%d logout tokens, want 2", n)
	}
	if loc, err := s.EndSession(t.Context(), s.EndSessionEndpoint()); loc != nil || err != nil {
		t.Errorf("EndSession without parameters: %v %v, want no redirect and no error", loc, err)
	}
}

func TestEndSessionRefusals(t *testing.T) {
	t.Parallel()
	c := logoutClient(nil)
	c.UserInfoSigned = true
	s, _ := newServer(t, providertest.Config{AccessTokens: providertest.TokenJWT, Clients: []providertest.Client{c, otherClient()}})
	tok := login(t, s, t0)
	hint := tok["id_token"].(string)
	_, idc := verifyJWT(t, s, hint, jose.RS256)
	sid := idc["sid"].(string)

	// Hints the server did not issue as ID tokens.
	forged := signJWS(t, clientKey(), jose.RS256, s.SigningKeyID(), map[string]any{"typ": "JWT"}, idc)
	parts := strings.Split(hint, ".")
	tampered := parts[0] + "." + b64([]byte(`{"iss":"`+s.Issuer()+`","sub":"someone-else","aud":"`+clientID+`"}`)) + "." + parts[2]
	// A JWT access token of this server: its iss, aud and key, typ at+jwt.
	accessToken := tok["access_token"].(string)
	_, _, signedUserInfo := userinfo(t, s, tok["access_token"].(string))
	hintWith := func(m providertest.Misbehavior) string {
		s.Misbehave(m)
		defer s.Reset()
		return login(t, s, t0)["id_token"].(string)
	}

	for _, tc := range []struct {
		name string
		q    url.Values
		want error
	}{
		{"unregistered post_logout_redirect_uri", url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {"https://evil.example/"}}, providertest.ErrRedirectURI},
		{"login redirect_uri as post_logout_redirect_uri", url.Values{"client_id": {clientID}, "post_logout_redirect_uri": {redirectURI}}, providertest.ErrRedirectURI},
		{"post_logout_redirect_uri of another client", url.Values{"client_id": {otherClientID}, "post_logout_redirect_uri": {postLogoutURI}}, providertest.ErrRedirectURI},
		{"post_logout_redirect_uri without client", url.Values{"post_logout_redirect_uri": {postLogoutURI}}, providertest.ErrInvalidRequest},
		{"unknown client", url.Values{"client_id": {"nobody"}}, providertest.ErrUnknownClient},
		{"hint for another client", url.Values{"id_token_hint": {hint}, "client_id": {otherClientID}}, providertest.ErrInvalidIDTokenHint},
		{"hint signed by another key", url.Values{"id_token_hint": {forged}}, providertest.ErrInvalidIDTokenHint},
		{"tampered hint", url.Values{"id_token_hint": {tampered}}, providertest.ErrInvalidIDTokenHint},
		{"hint from another issuer", url.Values{"id_token_hint": {hintWith(providertest.IDTokenWrongIssuer)}}, providertest.ErrInvalidIDTokenHint},
		{"access token as hint", url.Values{"id_token_hint": {accessToken}, "client_id": {clientID}}, providertest.ErrInvalidIDTokenHint},
		{"signed userinfo as hint", url.Values{"id_token_hint": {string(signedUserInfo)}}, providertest.ErrInvalidIDTokenHint},
		{"alg none hint", url.Values{"id_token_hint": {hintWith(providertest.IDTokenAlgNone)}}, providertest.ErrInvalidIDTokenHint},
		{"HS256 hint keyed with the public key", url.Values{"id_token_hint": {hintWith(providertest.IDTokenHS256WithPublicKey)}}, providertest.ErrInvalidIDTokenHint},
		{"unpublished key", url.Values{"id_token_hint": {hintWith(providertest.IDTokenUnpublishedKey)}}, providertest.ErrInvalidIDTokenHint},
		{"garbage hint", url.Values{"id_token_hint": {"a.b.c"}}, providertest.ErrInvalidIDTokenHint},
		{"repeated parameter", url.Values{"client_id": {clientID, clientID}}, providertest.ErrInvalidRequest},
	} {
		loc, err := s.EndSession(t.Context(), endSessionURL(s, tc.q))
		r, _ := s.LastRefusal()
		if loc != nil || !errors.Is(err, providertest.ErrNotRedirected) || r.Endpoint != providertest.EndpointEndSession || r.Status != 400 || !errors.Is(r.Reason, tc.want) {
			t.Errorf("%s: EndSession = %v, %v; refusal at %s status %d reason %v; want no redirect and %v", tc.name, loc, err, r.Endpoint, r.Status, r.Reason, tc.want)
		}
	}
	if s.SessionEnded(sid) {
		t.Errorf("a refused logout ended the session")
	}
	if st, _, _ := userinfo(t, s, tok["access_token"].(string)); st != 200 {
		t.Errorf("userinfo after refused logouts: %d, want 200", st)
	}
}
