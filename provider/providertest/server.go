package providertest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/pkjwt/pkjwt/internal/clock"
	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
)

// Endpoint names an endpoint of the server, for [Server.Count] and
// [Refusal].
type Endpoint string

// The endpoints.
const (
	EndpointDiscovery Endpoint = "discovery"
	EndpointJWKS      Endpoint = "jwks"
	EndpointAuthorize Endpoint = "authorize"
	EndpointToken     Endpoint = "token"
	EndpointUserInfo  Endpoint = "userinfo"
	// EndpointPAR is the pushed authorization request endpoint (RFC 9126).
	EndpointPAR Endpoint = "par"
	// EndpointPARRedirected counts requests that followed the redirect of
	// the PARRedirect misbehavior; a client should never send one.
	EndpointPARRedirected Endpoint = "par_redirected"
	// EndpointClientJWKS counts the server's own fetches of clients'
	// jwks_uri; it is not an endpoint of the server.
	EndpointClientJWKS Endpoint = "client_jwks"
)

// Paths of the endpoints, below the issuer (without its trailing slash).
const (
	DiscoveryPath = "/.well-known/openid-configuration"
	JWKSPath      = "/jwks"
	AuthorizePath = "/authorize"
	TokenPath     = "/token"
	UserInfoPath  = "/userinfo"
	PARPath       = "/par"
)

// Server is a mock OpenID Provider on [httptest]. It is safe for concurrent
// use. It is NOT a production provider: see the package documentation.
type Server struct {
	cfg     Config
	srv     *httptest.Server
	issuer  string
	base    string // issuer without trailing slash
	now     func() time.Time
	closing chan struct{}
	closed  sync.Once
	fapi    fapiState // PAR and DPoP state, with its own mutex (par.go, dpop.go)

	// guards every field below
	mu            sync.Mutex
	clients       map[string]*clientState
	codes         map[string]*codeGrant
	tokens        map[string]*issuedToken // access and refresh tokens
	jtis          map[string]time.Time    // client ID + "\x00" + jti → expiry
	misbehaving   map[Misbehavior]bool
	keys          keyRing
	counts        map[Endpoint]int
	lastAssertion *Assertion
	refusals      []Refusal
	user          User
	logout        logoutState // logout.go
}

// New starts a server for a test and closes it with t.Cleanup. It calls
// t.Fatal when cfg is invalid.
func New(t testing.TB, cfg Config) *Server {
	t.Helper()
	s, err := Start(cfg)
	if err != nil {
		t.Fatalf("providertest.New: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a server, for programs such as examples that have no
// testing.TB. Call Close when done. It returns an error when cfg is
// invalid, listing every problem.
func Start(cfg Config) (*Server, error) {
	s, err := newServer(cfg)
	if err != nil {
		return nil, err
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	// The issuer is known before the first request can arrive: httptest
	// derives its URL from the listener the same way.
	scheme := "http://"
	if cfg.TLS {
		scheme = "https://"
	}
	s.issuer = scheme + s.srv.Listener.Addr().String() + cfg.IssuerPath
	s.base = strings.TrimSuffix(s.issuer, "/")
	if cfg.TLS {
		s.srv.StartTLS()
	} else {
		s.srv.Start()
	}
	if !strings.HasPrefix(s.issuer, s.srv.URL) {
		s.srv.Close()
		return nil, fmt.Errorf("providertest: server URL %s does not match the issuer %s", s.srv.URL, s.issuer)
	}
	return s, nil
}

func newServer(cfg Config) (*Server, error) {
	var errs []error
	if p := cfg.IssuerPath; p != "" {
		u, err := url.Parse(p)
		if err != nil || !strings.HasPrefix(p, "/") || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(p, "?#") || u.Path != p {
			errs = append(errs, fmt.Errorf("providertest: issuer path %q must start with / and hold no query, fragment or escapes", p))
		}
	}
	if cfg.IDTokenAlgorithm == "" {
		cfg.IDTokenAlgorithm = jwks.RS256
	}
	keys, err := newKeyRing(cfg.IDTokenAlgorithm)
	if err != nil {
		errs = append(errs, err)
	}
	if cfg.Audience < AudienceIssuer || cfg.Audience > AudienceIssuerOrTokenEndpoint {
		errs = append(errs, fmt.Errorf("providertest: unknown audience policy %d", cfg.Audience))
	}
	if cfg.AccessTokens < TokenOpaque || cfg.AccessTokens > TokenJWT {
		errs = append(errs, fmt.Errorf("providertest: unknown token format %d", cfg.AccessTokens))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"ClockSkew", cfg.ClockSkew}, {"MaxAssertionLifetime", cfg.MaxAssertionLifetime},
		{"AccessTokenLifetime", cfg.AccessTokenLifetime}, {"IDTokenLifetime", cfg.IDTokenLifetime},
		{"CodeLifetime", cfg.CodeLifetime}, {"ClientJWKSMaxAge", cfg.ClientJWKSMaxAge}, {"SlowDelay", cfg.SlowDelay},
	} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("providertest: %s is negative", d.name))
		}
	}
	errs = append(errs, checkFAPIConfig(&cfg)...)
	if cfg.MaxJTIs < 0 || cfg.OversizeBytes < 0 {
		errs = append(errs, errors.New("providertest: MaxJTIs and OversizeBytes must not be negative"))
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&cfg.MaxAssertionLifetime, defaultMaxAssertionLifetime)
	def(&cfg.AccessTokenLifetime, defaultAccessTokenLifetime)
	def(&cfg.IDTokenLifetime, defaultIDTokenLifetime)
	def(&cfg.CodeLifetime, defaultCodeLifetime)
	def(&cfg.ClientJWKSMaxAge, defaultClientJWKSMaxAge)
	def(&cfg.ClientJWKSMinRefresh, defaultClientJWKSMinRefresh)
	def(&cfg.SlowDelay, defaultSlowDelay)
	if cfg.MaxJTIs == 0 {
		cfg.MaxJTIs = defaultMaxJTIs
	}
	cfg.ClientAuthAlgorithms = slices.Clone(cfg.ClientAuthAlgorithms)
	if len(cfg.ClientAuthAlgorithms) == 0 {
		cfg.ClientAuthAlgorithms = slices.Clone(defaultAlgorithms)
	}
	errs = append(errs, checkAlgorithms("ClientAuthAlgorithms", cfg.ClientAuthAlgorithms)...)
	if cfg.OversizeBytes == 0 {
		cfg.OversizeBytes = defaultOversizeBytes
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	cfg.ExtraAudiences = append([]string(nil), cfg.ExtraAudiences...)
	s := &Server{
		now:         clock.Or(cfg.Now),
		closing:     make(chan struct{}),
		clients:     map[string]*clientState{},
		codes:       map[string]*codeGrant{},
		tokens:      map[string]*issuedToken{},
		jtis:        map[string]time.Time{},
		misbehaving: map[Misbehavior]bool{},
		counts:      map[Endpoint]int{},
		keys:        keys,
		user:        copyUser(cfg.User),
	}
	for _, c := range cfg.Clients {
		cs, err := newClientState(c, cfg.ClientAuthAlgorithms)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.clients[c.ID] = cs
	}
	cfg.Clients = nil
	s.cfg = cfg
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

func copyUser(u User) User {
	if u.Subject == "" {
		u.Subject = defaultSubject
	}
	c := make(map[string]any, len(u.Claims))
	for k, v := range u.Claims {
		c[k] = v
	}
	u.Claims = c
	return u
}

// Close stops the server: slow responses in progress end at once, then it
// waits for the handlers to return. It is safe to call more than once.
func (s *Server) Close() {
	s.closed.Do(func() {
		close(s.closing)
		s.srv.Close()
	})
}

// Issuer returns the issuer identifier: the server's URL followed by
// Config.IssuerPath, exactly as published in discovery and ID tokens.
func (s *Server) Issuer() string { return s.issuer }

// URL returns the server's base URL (scheme, host and port), without the
// issuer path.
func (s *Server) URL() string { return s.srv.URL }

// DiscoveryURL returns the URL of the discovery document.
func (s *Server) DiscoveryURL() string { return s.base + DiscoveryPath }

// JWKSURL returns the URL of the server's JWK Set (jwks_uri).
func (s *Server) JWKSURL() string { return s.base + JWKSPath }

// AuthorizationEndpoint returns the URL of the authorization endpoint.
func (s *Server) AuthorizationEndpoint() string { return s.base + AuthorizePath }

// TokenEndpoint returns the URL of the token endpoint.
func (s *Server) TokenEndpoint() string { return s.base + TokenPath }

// UserInfoEndpoint returns the URL of the userinfo endpoint.
func (s *Server) UserInfoEndpoint() string { return s.base + UserInfoPath }

// HTTPClient returns a client that reaches the server and, with TLS, trusts
// its certificate. Each call returns a new client (sharing one transport),
// so a caller may change it. It follows redirects like any http.Client; see
// [Server.Authorize] for the authorization step.
func (s *Server) HTTPClient() *http.Client {
	c := *s.srv.Client()
	return &c
}

// Certificate returns the TLS certificate's leaf, or nil without TLS.
func (s *Server) Certificate() []byte {
	if c := s.srv.Certificate(); c != nil {
		return append([]byte(nil), c.Raw...)
	}
	return nil
}

// SetUser replaces the user approved by later authorizations.
func (s *Server) SetUser(u User) {
	u = copyUser(u)
	s.mu.Lock()
	s.user = u
	s.mu.Unlock()
}

// Misbehave switches the given misbehaviors on, until [Server.Behave] or
// [Server.Reset].
func (s *Server) Misbehave(ms ...Misbehavior) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range ms {
		s.misbehaving[m] = true
	}
}

// Behave switches the given misbehaviors off.
func (s *Server) Behave(ms ...Misbehavior) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range ms {
		delete(s.misbehaving, m)
	}
}

// Misbehaving reports whether m is switched on.
func (s *Server) Misbehaving(m Misbehavior) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.misbehaving[m]
}

// Reset switches every misbehavior off. Keys, clients, tokens, counters and
// records are kept.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.misbehaving)
}

// on reports whether m is switched on. The caller holds s.mu.
func (s *Server) on(m Misbehavior) bool { return s.misbehaving[m] }

// is reports whether m is switched on, taking s.mu.
func (s *Server) is(m Misbehavior) bool { return s.Misbehaving(m) }

// Count returns how many requests arrived at e (for EndpointClientJWKS: how
// many fetches of clients' JWK Sets the server made).
func (s *Server) Count(e Endpoint) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[e]
}

func (s *Server) count(e Endpoint) {
	s.mu.Lock()
	s.counts[e]++
	s.mu.Unlock()
}

// Refusals returns the refusals recorded so far, oldest first (at most the
// last 1,000).
func (s *Server) Refusals() []Refusal {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Refusal(nil), s.refusals...)
}

// LastRefusal returns the latest refusal, if any.
func (s *Server) LastRefusal() (Refusal, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.refusals) == 0 {
		return Refusal{}, false
	}
	return s.refusals[len(s.refusals)-1], true
}

// LastAssertion returns the client assertion the token endpoint checked
// last, decoded, whether it was accepted or not. An assertion with a wrong
// client_assertion_type is not checked, so not recorded. ok is false when
// none could be decoded yet.
func (s *Server) LastAssertion() (a Assertion, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastAssertion == nil {
		return Assertion{}, false
	}
	return s.lastAssertion.clone(), true
}

// serveHTTP routes requests below the issuer path.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	prefix := strings.TrimPrefix(s.base, s.srv.URL)
	p, ok := strings.CutPrefix(r.URL.Path, prefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	switch p {
	case DiscoveryPath:
		s.count(EndpointDiscovery)
		s.serveDiscovery(w, r)
	case JWKSPath:
		s.count(EndpointJWKS)
		s.serveJWKS(w, r)
	case AuthorizePath:
		s.count(EndpointAuthorize)
		s.serveAuthorize(w, r)
	case TokenPath:
		s.count(EndpointToken)
		s.serveToken(w, r)
	case UserInfoPath:
		s.count(EndpointUserInfo)
		s.serveUserInfo(w, r)
	case EndSessionPath:
		s.count(EndpointEndSession)
		s.serveEndSession(w, r)
	case RevocationPath:
		s.count(EndpointRevocation)
		s.serveRevocation(w, r)
	case IntrospectionPath:
		s.count(EndpointIntrospection)
		s.serveIntrospection(w, r)
	case PARPath:
		s.count(EndpointPAR)
		s.servePAR(w, r)
	case parRedirectedPath:
		s.count(EndpointPARRedirected)
		s.serveParRedirected(w, r)
	default:
		http.NotFound(w, r)
	}
}

// wait blocks for Config.SlowDelay, or until the request's context ends or
// the server closes. It reports whether the full delay passed.
func (s *Server) wait(ctx context.Context) bool {
	t := time.NewTimer(s.cfg.SlowDelay)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.closing:
		return false
	}
}

// keyRing is the provider's own signing keys: a cycle of pre-generated keys
// of the configured algorithm, the current one and the previous one
// published. Keys are loaded when first needed, so that starting a server
// stays cheap. It is guarded by Server.mu.
type keyRing struct {
	alg    jwks.Algorithm
	names  []string    // testkeys names; "" for a generated Ed25519 key
	loaded []*jwks.Key // nil until needed
	cur    int
	prev   int // -1: none
}

func newKeyRing(alg jwks.Algorithm) (keyRing, error) {
	var names []string
	switch alg {
	case jwks.RS256, jwks.PS256:
		names = []string{testkeys.RSA2048C, testkeys.RSA3072, testkeys.RSA4096}
	case jwks.ES256:
		names = []string{testkeys.P256B, testkeys.P256A, testkeys.P256ShortX}
	case jwks.EdDSA:
		// A generated third key, so that an unpublished key always exists.
		names = []string{testkeys.Ed25519B, testkeys.Ed25519A, ""}
	default:
		return keyRing{}, fmt.Errorf("providertest: ID token algorithm %q is not one of RS256, PS256, ES256, EdDSA", alg)
	}
	kr := keyRing{alg: alg, names: names, loaded: make([]*jwks.Key, len(names)), prev: -1}
	if _, err := kr.load(0); err != nil {
		return keyRing{}, err
	}
	return kr, nil
}

func (kr *keyRing) load(i int) (*jwks.Key, error) {
	if k := kr.loaded[i]; k != nil {
		return k, nil
	}
	var k *jwks.Key
	var err error
	if n := kr.names[i]; n != "" {
		k, err = jwks.ParsePEM(testkeys.PEM(n), jwks.KeyConfig{Algorithm: kr.alg})
	} else {
		var priv ed25519.PrivateKey
		if _, priv, err = ed25519.GenerateKey(rand.Reader); err == nil {
			k, err = jwks.NewKey(context.Background(), priv, jwks.KeyConfig{Algorithm: kr.alg})
		}
	}
	if err != nil {
		return nil, fmt.Errorf("providertest: load signing key %d: %w", i, err)
	}
	kr.loaded[i] = k
	return k, nil
}

// key returns key i, loading it. The keys are embedded test keys that
// load, so a failure is a broken build.
func (kr *keyRing) key(i int) *jwks.Key {
	k, err := kr.load(i)
	if err != nil {
		panic(err)
	}
	return k
}

func (kr *keyRing) current() *jwks.Key { return kr.key(kr.cur) }

// next is the key after the current one: never published until rotation.
func (kr *keyRing) next() *jwks.Key { return kr.key((kr.cur + 1) % len(kr.names)) }

func (kr *keyRing) rotate() {
	kr.prev = kr.cur
	kr.cur = (kr.cur + 1) % len(kr.names)
}

// published returns the keys of the normal JWKS: current, then previous.
func (kr *keyRing) published() []*jwks.Key {
	out := []*jwks.Key{kr.current()}
	if kr.prev >= 0 {
		out = append(out, kr.key(kr.prev))
	}
	return out
}

// RotateKeys switches the provider's ID-token signing key to the next
// pre-generated key. The JWKS then publishes the new key and the previous
// one (until the next rotation).
func (s *Server) RotateKeys() {
	s.mu.Lock()
	s.keys.rotate()
	s.mu.Unlock()
}

// SigningKeyID returns the kid of the key that signs ID tokens now.
func (s *Server) SigningKeyID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys.current().KeyID()
}

// PublicKeys returns the server's published keys as go-jose values (what a
// well-behaved JWKS endpoint serves).
func (s *Server) PublicKeys() jose.JSONWebKeySet {
	s.mu.Lock()
	defer s.mu.Unlock()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(jwks.NewSet(s.keys.published()...).JSON(), &set); err != nil {
		panic("providertest: published set does not parse: " + err.Error())
	}
	return set
}
