package exchange

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/pkjwt/pkjwt/assertion"
	"github.com/pkjwt/pkjwt/internal/clock"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider"
)

// defaultTransactionMaxAge is how long a [Transaction] may wait for its
// callback when Config.TransactionMaxAge is zero.
const defaultTransactionMaxAge = 10 * time.Minute

// Config configures a [Client]. ClientID and exactly one of Key and
// Assertions are required; every other field has a safe zero value. The
// HTTP client, clock and logger default to the provider's (see
// [provider.Provider.Config]), so an application sets them once, at
// [provider.Discover].
type Config struct {
	// ClientID is the client identifier the provider registered. Required,
	// except with an *[assertion.Minter] in Assertions: then zero means the
	// Minter's client ID, and any other value must equal it.
	ClientID string
	// Key signs the client assertions, minted fresh for every request: a
	// *jwks.Key, or a *jwks.Ring that rotates. It is the shortcut for the
	// common case: assertions of [assertion.ProfileRFC10070] (aud = the
	// provider's issuer), a 5-minute lifetime, signed by this Client's
	// clock. Exactly one of Key and Assertions is
	// required.
	Key jwks.KeySource
	// Assertions replaces Key: every request asks it for a client
	// assertion. Pass an *[assertion.Minter] made with [assertion.NewMinter]
	// for any other assertion setting: [assertion.ProfileLegacy] (aud = the
	// token endpoint, for providers that still demand it), another
	// lifetime, a certificate thumbprint for Microsoft Entra ID. New then
	// checks the Minter against this Client: its client ID must be
	// ClientID, and its audience must be the provider's issuer
	// ([provider.Provider.Issuer]) with ProfileRFC10070 or its token
	// endpoint ([provider.Provider.TokenEndpoint]) with ProfileLegacy;
	// otherwise New fails with ErrInvalidConfig. The Minter keeps its own
	// clock (assertion.Config.Now). New cannot see the Minter's key, so its
	// private_key_jwt pre-flight checks the method only: set
	// provider.Config.ClientAuthAlgorithm at discovery to check the
	// algorithm too.
	//
	// Any other [assertion.Source] works too (an externally minted workload
	// identity token, through [assertion.FromFile] or
	// [assertion.SourceFunc]); it must yield a new or freshly read
	// assertion on every call, and New cannot check what it yields.
	Assertions assertion.Source
	// RedirectURL is the redirect_uri of the login flow, registered at the
	// provider. Required for [Client.AuthCodeURL] (unless given per call
	// with [WithRedirectURL]); zero is fine for a client that only uses
	// the other grants. It must be an absolute URL without fragment.
	RedirectURL string
	// Scopes are requested at login besides "openid", which is always
	// requested. Zero requests "openid" only.
	Scopes []string
	// HTTPClient carries token requests and is the default base of
	// [TokenSource.Client]. Zero means the provider's: the HTTPClient given
	// to [provider.Discover] (its transport, jar and timeout, or the
	// provider package's 10-second timeout when it had none), never
	// [http.DefaultClient]. For token requests a copy is used that never
	// follows redirects, and that gets a 30-second timeout when its Timeout
	// is zero; bodies are bounded by MaxResponseBytes.
	HTTPClient *http.Client
	// MaxResponseBytes bounds a token endpoint's body in bytes; a longer
	// body is ErrMalformedResponse, never truncated. Zero means 1 MiB.
	MaxResponseBytes int64
	// Logger receives debug records of token requests (grant type, status,
	// duration; never a token). Zero means the provider's logger
	// (provider.Config.Logger, which discards by default).
	Logger *slog.Logger
	// Now is the one clock for transactions, token expiry, ID token checks
	// and the assertions minted with Key. Zero means the provider's clock
	// (provider.Config.Now, time.Now by default).
	Now func() time.Time
	// Leeway is the clock skew allowed when checking ID token times. Zero
	// means one minute; at most five minutes (the provider package's
	// limits, checked by [provider.Provider.IDTokenVerifier]).
	Leeway time.Duration
	// IDTokenAlgorithms is the allow-list of ID token signature algorithms,
	// intersected with the provider's id_token_signing_alg_values_supported.
	// Zero means RS256 only, the OpenID Connect default.
	IDTokenAlgorithms []jwks.Algorithm
	// TransactionMaxAge is how long a [Transaction] may wait for its
	// callback. Zero means 10 minutes.
	TransactionMaxAge time.Duration
	// ExpiryDelta is how long before expiry a [TokenSource] replaces a
	// token. Zero means 10 seconds.
	ExpiryDelta time.Duration
	// DPoPKey turns on DPoP (RFC 9449): every token request and pushed
	// authorization request carries a proof signed by this key, the
	// authorization code is bound to it (dpop_jkt), and the tokens issued
	// are sent by [TokenSource.Client] with proofs. Its algorithm must be
	// ES256, EdDSA or PS256 and among the provider's
	// dpop_signing_alg_values_supported (checked by New). Zero (nil) means
	// no DPoP, which FAPI2 refuses. Use a key of its own, not the client
	// assertion key.
	DPoPKey *jwks.Key
	// PushAuthorizationRequests makes [Client.AuthCodeURL] push the
	// authorization request to the provider's
	// pushed_authorization_request_endpoint (RFC 9126) even when the
	// provider does not require it. Zero (false) pushes only when the
	// provider's metadata sets require_pushed_authorization_requests, or
	// with FAPI2.
	PushAuthorizationRequests bool
	// FAPI2 enforces the FAPI 2.0 Security Profile for a client: pushed
	// authorization requests, PKCE S256, the RFC 9207 iss parameter in
	// every authorization response, DPoP (DPoPKey required),
	// private_key_jwt with the issuer as the sole audience (Key, or an
	// *assertion.Minter of assertion.ProfileRFC10070 in Assertions),
	// response type code only, and PS256, ES256 or EdDSA only for
	// assertions, proofs and accepted ID tokens (a zero IDTokenAlgorithms
	// means those three). New refuses, with one error wrapping
	// ErrInvalidConfig that lists every gap, a configuration or a
	// provider whose metadata cannot support the profile. The algorithm of
	// every client assertion is checked again when it is minted (a key
	// ring may rotate to an RS256 key later): an assertion of another
	// algorithm is never sent, and the request fails with
	// ErrInvalidConfig. Zero (false)
	// checks none of this beyond the other fields' own rules.
	FAPI2 bool
	// ReplayCache remembers the jti of every logout token that
	// [Client.BackchannelLogoutHandler] accepts, so that each is accepted
	// once. Zero means a bounded in-memory cache of this Client, right for
	// one process; replicas behind a load balancer share one store.
	ReplayCache provider.ReplayCache
}

// Client talks to one provider's token endpoint as one client, with a fresh
// client assertion on every request: login (authorization code with PKCE),
// refresh, client credentials, JWT bearer and token exchange.
//
// Make one with [New]; the zero Client is not usable. A Client holds no
// secret itself (its key stays in the key source) and is safe for
// concurrent use.
type Client struct {
	clientID    string
	issuer      string
	authURL     string
	issRequired bool
	redirectURL string
	scopes      []string
	assertions  assertion.Source
	ep          endpoint
	apiClient   *http.Client
	logger      *slog.Logger
	now         func() time.Time
	txMaxAge    time.Duration
	expiryDelta time.Duration
	verifier    *provider.IDTokenVerifier
	dpop        *dpopState // nil without DPoP
	usePAR      bool
	fapi2       bool     // check each assertion's algorithm
	par         endpoint // the PAR endpoint, when usePAR
	// The other endpoints of the provider, "" when it has none.
	userInfoURL, revocationURL, introspectionURL, endSessionURL string
}

// New returns a Client of provider p for the client cfg describes. The
// zero HTTPClient, Now and Logger of cfg become p's
// ([provider.Provider.Config]), so that ID tokens, transactions and
// assertions are checked and made by one clock and every request goes
// through one client. New validates
// everything at once and joins the problems with errors.Join: the [Config]
// fields (ErrInvalidConfig, also for an *assertion.Minter in
// Config.Assertions whose client ID or audience is not this Client's, and
// the assertion package's errors for the minter made from Config.Key), the
// provider's code challenge methods (ErrInvalidConfig without S256), the
// private_key_jwt pre-flight against the provider's metadata (a
// *provider.ClientAuthError, for the algorithm of Config.Key's current
// signing key) and the ID token verifier's settings; with Config.DPoPKey
// the key's algorithm against dpop_signing_alg_values_supported; with pushed
// authorization requests a pushed_authorization_request_endpoint on the
// issuer's or the token endpoint's origin; with Config.FAPI2 every gap of
// the profile, each wrapping ErrInvalidConfig. It does no network I/O.
func New(p *provider.Provider, cfg Config) (*Client, error) {
	if p == nil {
		return nil, fmt.Errorf("exchange: nil provider; call provider.Discover first: %w", ErrInvalidConfig)
	}
	pc := p.Config()
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = pc.HTTPClient
	}
	if cfg.Now == nil {
		cfg.Now = pc.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = pc.Logger
	}
	cfg.ClientID = clientIDOf(cfg)
	pm := p.Metadata()
	md := metadata{
		issuer:           p.Issuer(),
		authURL:          pm.AuthorizationEndpoint,
		tokenURL:         pm.TokenEndpoint,
		issRequired:      pm.ISSParameterSupported,
		challengeMethods: pm.CodeChallengeMethods,
		parURL:           pm.PushedAuthorizationRequestEndpoint,
		requirePAR:       pm.RequirePushedAuthorizationRequests,
		dpopAlgs:         pm.DPoPSigningAlgorithms,
		userInfoURL:      pm.UserInfoEndpoint,
		responseTypes:    pm.ResponseTypes,
		idTokenAlgs:      pm.IDTokenSigningAlgorithms,
		authSigningAlgs:  pm.TokenEndpointAuthSigningAlgorithms,
	}
	var errs []error
	c, err := newClient(md, cfg)
	if err != nil {
		errs = append(errs, err)
	}
	var alg jwks.Algorithm
	if cfg.Key != nil {
		// A ring without an active key right now is not a configuration
		// error; the pre-flight then checks the method only.
		if k, err := cfg.Key.SigningKey(); err == nil && k != nil {
			alg = k.Algorithm()
		}
	}
	if err := p.CheckPrivateKeyJWT(alg); err != nil {
		errs = append(errs, err)
	}
	if cfg.FAPI2 && alg != "" && !fapiAlgorithm(string(alg)) {
		errs = append(errs, fmt.Errorf("exchange: FAPI2: the client assertion key's algorithm is %s; FAPI 2.0 allows PS256, ES256 or EdDSA: %w", alg, errFAPI2))
	}
	idAlgs := slices.Clone(cfg.IDTokenAlgorithms)
	if cfg.FAPI2 && len(idAlgs) == 0 {
		idAlgs = fapiIDTokenAlgorithms(md.idTokenAlgs)
	}
	v, err := p.IDTokenVerifier(provider.VerifierConfig{
		ClientID:    cfg.ClientID,
		Algorithms:  idAlgs,
		Leeway:      cfg.Leeway,
		Now:         cfg.Now,
		ReplayCache: cfg.ReplayCache,
	})
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	c.verifier = v
	c.userInfoURL, c.revocationURL = pm.UserInfoEndpoint, pm.RevocationEndpoint
	c.introspectionURL, c.endSessionURL = pm.IntrospectionEndpoint, pm.EndSessionEndpoint
	return c, nil
}

// clientIDOf returns cfg.ClientID, or the client ID of an *assertion.Minter
// in cfg.Assertions when cfg.ClientID is empty.
func clientIDOf(cfg Config) string {
	if m, ok := cfg.Assertions.(*assertion.Minter); ok && m != nil && cfg.ClientID == "" {
		return m.ClientID()
	}
	return cfg.ClientID
}

// metadata is what a Client needs of the provider.
type metadata struct {
	issuer, authURL, tokenURL string
	issRequired               bool
	challengeMethods          []string
	parURL, userInfoURL       string
	requirePAR                bool
	dpopAlgs, responseTypes   []string
	idTokenAlgs               []string
	authSigningAlgs           []string
}

// newClient validates cfg against md and builds the Client, without the ID
// token verifier.
func newClient(md metadata, cfg Config) (*Client, error) {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("exchange: "+format+": %w", append(a, ErrInvalidConfig)...))
	}
	cfg.ClientID = clientIDOf(cfg)
	if cfg.ClientID == "" {
		bad("Config.ClientID is empty; set the client_id the provider registered")
	}
	switch {
	case cfg.Key == nil && cfg.Assertions == nil:
		bad("neither Config.Key nor Config.Assertions is set; set one")
	case cfg.Key != nil && cfg.Assertions != nil:
		bad("both Config.Key and Config.Assertions are set; set one")
	}
	if m, ok := cfg.Assertions.(*assertion.Minter); ok {
		if err := checkMinter(m, md, cfg.ClientID); err != nil {
			errs = append(errs, err)
		}
	}
	if cfg.RedirectURL != "" {
		if err := checkRedirectURL(cfg.RedirectURL); err != nil {
			bad("Config.RedirectURL: %v", err)
		}
	}
	for _, s := range cfg.Scopes {
		if !validScope(s) {
			bad("Config.Scopes: %s is not an RFC 6749 scope token", quote(truncate(s, 64)))
		}
	}
	if cfg.MaxResponseBytes < 0 {
		bad("Config.MaxResponseBytes is negative")
	}
	if cfg.Leeway < 0 || cfg.TransactionMaxAge < 0 || cfg.ExpiryDelta < 0 {
		bad("Config.Leeway, TransactionMaxAge and ExpiryDelta must not be negative")
	}
	if len(md.challengeMethods) > 0 && !slices.Contains(md.challengeMethods, "S256") {
		errs = append(errs, fmt.Errorf("exchange: the provider advertises code_challenge_methods_supported without S256: %w", errPKCEUnsupported))
	}
	src := cfg.Assertions
	if cfg.Key != nil && cfg.ClientID != "" {
		m, err := assertion.NewMinter(cfg.Key, assertion.Config{
			ClientID: cfg.ClientID,
			Audience: md.issuer, // RFC 10070
			Now:      cfg.Now,
		})
		if err != nil {
			errs = append(errs, err)
		}
		src = m
	}
	proofs, perrs := newProofs(md, cfg)
	errs = append(errs, perrs...)
	usePAR := cfg.PushAuthorizationRequests || md.requirePAR || cfg.FAPI2
	if usePAR {
		errs = append(errs, checkPAREndpoint(md)...)
	}
	if cfg.FAPI2 {
		errs = append(errs, fapiProblems(md, cfg)...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	c := &Client{
		clientID:    cfg.ClientID,
		issuer:      md.issuer,
		authURL:     md.authURL,
		issRequired: md.issRequired,
		redirectURL: cfg.RedirectURL,
		scopes:      slices.Clone(cfg.Scopes),
		assertions:  src,
		apiClient:   copyClient(cfg.HTTPClient),
		logger:      cfg.Logger,
		now:         clock.Or(cfg.Now),
		txMaxAge:    cfg.TransactionMaxAge,
		expiryDelta: cfg.ExpiryDelta,
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if c.txMaxAge == 0 {
		c.txMaxAge = defaultTransactionMaxAge
	}
	if c.expiryDelta == 0 {
		c.expiryDelta = defaultExpiryDelta
	}
	maxBytes := cfg.MaxResponseBytes
	if maxBytes == 0 {
		maxBytes = defaultMaxResponseBytes
	}
	c.ep = endpoint{url: md.tokenURL, hc: tokenHTTPClient(cfg.HTTPClient), maxBytes: maxBytes, now: c.now, logger: c.logger}
	if proofs != nil {
		c.dpop = newDPoPState(proofs)
	}
	c.usePAR = usePAR
	c.par = c.ep
	c.par.url, c.par.what = md.parURL, "pushed authorization"
	c.userInfoURL = md.userInfoURL
	c.issRequired = c.issRequired || cfg.FAPI2
	c.fapi2 = cfg.FAPI2
	return c, nil
}

// checkMinter reports why the Minter m given in Config.Assertions does not
// fit a Client of clientID at the provider md: its client ID must be
// clientID, and its audience the issuer (RFC 10070) or, in the legacy
// profile, the token endpoint. An assertion for another audience would be
// refused by the provider at best, and replayable at another server at
// worst.
func checkMinter(m *assertion.Minter, md metadata, clientID string) error {
	if m == nil {
		return fmt.Errorf("exchange: Config.Assertions is a nil *assertion.Minter; build one with assertion.NewMinter: %w", ErrInvalidConfig)
	}
	var errs []error
	if m.ClientID() != clientID {
		errs = append(errs, fmt.Errorf("exchange: the Minter in Config.Assertions has client ID %s, Config.ClientID is %s; use the same client ID in both or leave Config.ClientID empty: %w",
			quote(truncate(m.ClientID(), 128)), quote(truncate(clientID, 128)), ErrInvalidConfig))
	}
	want, what := md.issuer, "the provider's issuer (RFC 10070); build it with Audience: p.Issuer()"
	if m.Profile() == assertion.ProfileLegacy {
		want, what = md.tokenURL, "the provider's token endpoint (assertion.ProfileLegacy); build it with Audience: p.Metadata().TokenEndpoint"
	}
	if m.Audience() != want {
		errs = append(errs, fmt.Errorf("exchange: the Minter in Config.Assertions has audience %s, not %s: %w",
			quote(truncate(m.Audience(), 128)), what, ErrInvalidConfig))
	}
	return errors.Join(errs...)
}

// copyClient returns a shallow copy of hc, or nil, so that later changes to
// the caller's client have no effect.
func copyClient(hc *http.Client) *http.Client {
	if hc == nil {
		return nil
	}
	c := *hc
	return &c
}

// checkRedirectURL checks a redirect URI: absolute, no fragment (RFC 6749
// §3.1.2).
func checkRedirectURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return fmt.Errorf("%s is not an absolute URL", quote(truncate(s, 128)))
	}
	if u.Fragment != "" || u.RawFragment != "" || strings.Contains(s, "#") {
		return fmt.Errorf("%s has a fragment", quote(truncate(s, 128)))
	}
	return nil
}

// Issuer returns the issuer of the provider the client talks to.
func (c *Client) Issuer() string { return c.issuer }
