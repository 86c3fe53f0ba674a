package interop_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
)

// This file extends the harness for the provider features beyond the code
// flow: the fapi2 instance, RP-initiated and back-channel logout, userinfo,
// introspection and the extension grants of server.mjs.

// postLogoutRedirectURI is registered as post_logout_redirect_uris for the
// clients with logout. Nothing listens there: userAgent.endSession stops at
// the redirect.
const postLogoutRedirectURI = "http://127.0.0.1/interop/logged-out"

// Extension grant types and token types of server.mjs (RFC 7523, RFC 8693).
const (
	grantJWTBearer       = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	grantTokenExchange   = "urn:ietf:params:oauth:grant-type:token-exchange"
	tokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"
)

// Clients registered through extraClients.
const (
	clientRPLogout      = "rp-logout"       // post_logout_redirect_uris and backchannel_logout_uri
	clientRPLogoutLib   = "rp-logout-lib"   // the same, for the library's logout tests
	clientRPUserinfoJWT = "rp-userinfo-jwt" // userinfo_signed_response_alg ES256
	clientRPTokens      = "rp-tokens"       // userinfo JSON, introspection, revocation
	clientGrants        = "grants"          // jwt-bearer and token-exchange, never refused
	clientGrantProbe    = "grant-probe"     // jwt-bearer and token-exchange, refused on purpose
	clientFAPI2PS256    = "fapi2-ps256"
	clientFAPI2ES256    = "fapi2-es256"
	clientFAPI2EdDSA    = "fapi2-eddsa"
	clientFAPI2Probe    = "fapi2-probe" // refused on purpose
)

// extraClient is a client registered only at the providers in ops, with
// metadata beyond what the static clients have. setup fills in client_id,
// redirect_uris (redirectURI) and jwks (the key's public set); backchannel
// true sets backchannel_logout_uri to the harness's receiver for this
// client. Add an entry here to register a client for a new test.
type extraClient struct {
	ops         []string
	key         string // testkeys name
	alg         jwks.Algorithm
	backchannel bool
	meta        clientMetadata
}

var (
	baselineOPs = []string{strictOP, lenientOP}
	fapi2OPs    = []string{fapi2OP}
)

// allGrantTypes are the grant types of a client that may use every grant of
// a baseline instance.
var allGrantTypes = []string{"authorization_code", "refresh_token", "client_credentials", grantJWTBearer, grantTokenExchange}

var extraClients = map[string]extraClient{
	clientRPLogout: {ops: baselineOPs, key: testkeys.P256A, alg: jwks.ES256, backchannel: true,
		meta: clientMetadata{PostLogoutRedirectURIs: []string{postLogoutRedirectURI}, BackchannelLogoutSessionRequired: new(true)}},
	clientRPLogoutLib: {ops: baselineOPs, key: testkeys.P256B, alg: jwks.ES256, backchannel: true,
		meta: clientMetadata{PostLogoutRedirectURIs: []string{postLogoutRedirectURI}, BackchannelLogoutSessionRequired: new(true)}},
	clientRPUserinfoJWT: {ops: baselineOPs, key: testkeys.RSA2048B, alg: jwks.PS256,
		meta: clientMetadata{UserinfoSignedResponseAlg: "ES256"}},
	clientRPTokens: {ops: baselineOPs, key: testkeys.Ed25519A, alg: jwks.EdDSA},
	clientGrants: {ops: baselineOPs, key: testkeys.Ed25519B, alg: jwks.EdDSA,
		meta: clientMetadata{GrantTypes: allGrantTypes}},
	clientGrantProbe: {ops: baselineOPs, key: testkeys.P256B, alg: jwks.ES256,
		meta: clientMetadata{GrantTypes: allGrantTypes}},
	clientFAPI2PS256: {ops: fapi2OPs, key: testkeys.RSA2048A, alg: jwks.PS256},
	clientFAPI2ES256: {ops: fapi2OPs, key: testkeys.P256A, alg: jwks.ES256},
	clientFAPI2EdDSA: {ops: fapi2OPs, key: testkeys.Ed25519A, alg: jwks.EdDSA},
	clientFAPI2Probe: {ops: fapi2OPs, key: testkeys.P256B, alg: jwks.ES256},
}

// extraKey returns the signing key of a client of extraClients.
func extraKey(id string) (*jwks.Key, error) {
	c, ok := extraClients[id]
	if !ok {
		return nil, fmt.Errorf("no extra client %q", id)
	}
	return loadKey(c.key, c.alg)
}

// extraClientMetadata returns the metadata of the extra clients registered
// at the named provider, sorted by client ID.
func (e *interopEnv) extraClientMetadata(op string) ([]clientMetadata, error) {
	var out []clientMetadata
	for id, c := range extraClients {
		if !slices.Contains(c.ops, op) {
			continue
		}
		k, err := loadKey(c.key, c.alg)
		if err != nil {
			return nil, fmt.Errorf("client %s: %v", id, err)
		}
		m := c.meta
		m.ClientID = id
		if m.RedirectURIs == nil {
			m.RedirectURIs = []string{redirectURI}
		}
		m.JWKS = jwks.NewSet(k).JSON()
		if c.backchannel {
			m.BackchannelLogoutURI = e.backchannel.uri(id)
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b clientMetadata) int { return strings.Compare(a.ClientID, b.ClientID) })
	return out, nil
}

// backchannelReceiver is the loopback backchannel_logout_uri of every client
// registered with one: it records each logout_token POSTed to
// /backchannel/{client_id} and answers 200. The provider sends the tokens
// before it answers the logout confirmation, so a test reads them right
// after userAgent.endSession returns.
type backchannelReceiver struct {
	srv *httptest.Server
	// guards tokens
	mu     sync.Mutex
	tokens map[string][]string // by client ID
}

func newBackchannelReceiver() *backchannelReceiver {
	b := &backchannelReceiver{tokens: map[string][]string{}}
	b.srv = httptest.NewServer(http.HandlerFunc(b.serveHTTP))
	return b
}

func (b *backchannelReceiver) serveHTTP(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutPrefix(r.URL.Path, "/backchannel/")
	if !ok || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	tok := r.PostForm.Get("logout_token")
	if tok == "" {
		http.Error(w, "no logout_token", http.StatusBadRequest)
		return
	}
	b.mu.Lock()
	b.tokens[id] = append(b.tokens[id], tok)
	b.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// uri is the backchannel_logout_uri registered for clientID.
func (b *backchannelReceiver) uri(clientID string) string {
	return b.srv.URL + "/backchannel/" + url.PathEscape(clientID)
}

// logoutTokens returns the logout tokens received for clientID so far (at
// both baseline providers; a token's iss tells them apart).
func (b *backchannelReceiver) logoutTokens(clientID string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.tokens[clientID])
}

// serverEvent is one entry of server.mjs's /__interop/log: end_session,
// back-channel and endpoint error events (no tokens).
type serverEvent struct {
	Event       string `json:"event"`
	ClientID    string `json:"client_id"`
	Sub         string `json:"sub"`
	SID         string `json:"sid"`
	Error       string `json:"error"`
	Description string `json:"description"`
}

// serverLog fetches the events the named provider has logged so far
// (server.mjs's /__interop/log); see also refusals for the token endpoint's.
func (e *interopEnv) serverLog(ctx context.Context, op string) ([]serverEvent, error) {
	var out []serverEvent
	if err := getJSON(ctx, e.issuer(op)+"/__interop/log", &out); err != nil {
		return nil, err
	}
	return out, nil
}

// getJSON GETs u and decodes its 200 JSON answer into v.
func getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Timeout: httpTimeout}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", u, resp.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(v); err != nil {
		return fmt.Errorf("GET %s: %v", u, err)
	}
	return nil
}

// discoveryDocument returns the named provider's whole discovery document.
func discoveryDocument(ctx context.Context, op string) (map[string]any, error) {
	var doc map[string]any
	if err := getJSON(ctx, env.issuer(op)+"/.well-known/openid-configuration", &doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// userAgent is a browser stand-in that keeps the provider's cookies across
// calls, so that a login's session can be logged out later.
type userAgent struct {
	hc *http.Client
}

// newUserAgent returns a user agent with an empty cookie jar that stops at
// redirects to redirectURI and postLogoutRedirectURI.
func newUserAgent() (*userAgent, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	return &userAgent{hc: &http.Client{
		Jar:     jar,
		Timeout: httpTimeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if isClientURL(req.URL) {
				return http.ErrUseLastResponse
			}
			if len(via) >= maxRedirects {
				return fmt.Errorf("more than %d redirects", maxRedirects)
			}
			return nil
		},
	}}, nil
}

// isClientURL reports whether u belongs to the client (a redirect the user
// agent hands back instead of following).
func isClientURL(u *url.URL) bool {
	s := u.String()
	return strings.HasPrefix(s, redirectURI) || strings.HasPrefix(s, postLogoutRedirectURI)
}

// authorize is the package's authorize with this user agent's cookie jar:
// the provider's session survives for a later endSession.
func (ua *userAgent) authorize(ctx context.Context, authURL string) (*url.URL, error) {
	loc, err := ua.follow(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, fmt.Errorf("authorize: %w", err)
	}
	if !strings.HasPrefix(loc.String(), redirectURI) {
		return nil, fmt.Errorf("authorize: redirect to %s, want %s", loc.Redacted(), redirectURI)
	}
	return loc, nil
}

// endSession runs RP-initiated logout: it GETs endSessionURL with params
// (id_token_hint, client_id, post_logout_redirect_uri, state...), completes
// the confirmation page with confirmLogout, and returns where the provider
// sends the user agent: the post_logout_redirect_uri with its query, or the
// provider's own success page.
func (ua *userAgent) endSession(ctx context.Context, endSessionURL string, params url.Values) (*url.URL, error) {
	u, err := url.Parse(endSessionURL)
	if err != nil {
		return nil, err
	}
	u.RawQuery = params.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := ua.hc.Do(req)
	if err != nil {
		return nil, err
	}
	page, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("end session: status %d: %s", resp.StatusCode, page)
	}
	return ua.confirmLogout(ctx, resp.Request.URL, page)
}

var (
	logoutFormRE  = regexp.MustCompile(`<form id="op\.logoutForm" method="post" action="([^"]+)">`)
	hiddenInputRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"/>`)
)

// confirmLogout submits the logout confirmation page (server.mjs's
// logoutSource, or oidc-provider's auto-submitted form_post when no one is
// logged in) as a browser would: it POSTs the hidden inputs of the form
// (xsrf and logout=yes) to the form's action, and returns where the
// provider then sends the user agent.
func (ua *userAgent) confirmLogout(ctx context.Context, base *url.URL, page []byte) (*url.URL, error) {
	m := logoutFormRE.FindSubmatch(page)
	if m == nil {
		// oidc-provider's form_post page, used when there is no session.
		m = regexp.MustCompile(`<form method="post" action="([^"]+)">`).FindSubmatch(page)
	}
	if m == nil {
		return nil, errors.New("logout confirmation: no form in the page")
	}
	action, err := base.Parse(html.UnescapeString(string(m[1])))
	if err != nil {
		return nil, fmt.Errorf("logout confirmation: form action: %v", err)
	}
	form := url.Values{}
	for _, in := range hiddenInputRE.FindAllSubmatch(page, -1) {
		form.Add(html.UnescapeString(string(in[1])), html.UnescapeString(string(in[2])))
	}
	if form.Get("xsrf") == "" {
		return nil, errors.New("logout confirmation: no xsrf input in the form")
	}
	return ua.follow(ctx, http.MethodPost, action.String(), form)
}

// follow sends one request and follows the provider's redirects until one
// leads to the client (redirectURI or postLogoutRedirectURI), whose URL it
// returns, or until a page answers 200, whose URL it returns.
func (ua *userAgent) follow(ctx context.Context, method, u string, form url.Values) (*url.URL, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := ua.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return resp.Request.URL, nil
	}
	if resp.StatusCode < 300 || resp.StatusCode > 399 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		return nil, fmt.Errorf("%s %s: status %d: %s", resp.Request.Method, resp.Request.URL.Redacted(), resp.StatusCode, b)
	}
	loc, err := resp.Location()
	if err != nil {
		return nil, fmt.Errorf("redirect without a Location: %v", err)
	}
	return loc, nil
}

// rawResponse is a provider endpoint's answer as it came.
type rawResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// json decodes the body into a map; nil when it is not a JSON object.
func (r *rawResponse) json() map[string]any {
	var m map[string]any
	if json.Unmarshal(r.Body, &m) != nil {
		return nil
	}
	return m
}

// str returns the string member name of the JSON body, or "".
func (r *rawResponse) str(name string) string {
	s, _ := r.json()[name].(string)
	return s
}

// postForm POSTs form to u with the extra headers and returns the answer
// unparsed.
func postForm(ctx context.Context, u string, form url.Values, header http.Header) (*rawResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return doRaw(req)
}

// doRaw sends req without following redirects and reads the answer.
func doRaw(req *http.Request) (*rawResponse, error) {
	hc := &http.Client{
		Timeout:       httpTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	return &rawResponse{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// bearerGet GETs u with the access token in an Authorization header of the
// given scheme (Bearer or DPoP) plus the extra headers.
func bearerGet(ctx context.Context, u, scheme, token string, header http.Header) (*rawResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", scheme+" "+token)
	return doRaw(req)
}

// withClientAuth returns form plus client_id and a fresh client assertion
// from r, for the token, PAR, introspection and revocation endpoints.
func (r *rp) withClientAuth(ctx context.Context, form url.Values) (url.Values, error) {
	auth, err := r.clientAuth(ctx)
	if err != nil {
		return nil, err
	}
	out := url.Values{"client_id": {r.oauth.ClientID}}
	for k, v := range form {
		out[k] = v
	}
	for k, v := range auth {
		out[k] = v
	}
	return out, nil
}
