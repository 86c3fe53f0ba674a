package exchange

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/pkjwt/pkjwt/assertion"
	"github.com/pkjwt/pkjwt/internal/clock"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider"
)

// Defaults of [Config].
const (
	// DefaultTransactionMaxAge is how long a [Transaction] may wait for its
	// callback when Config.TransactionMaxAge is zero.
	DefaultTransactionMaxAge = 10 * time.Minute
)

// Config configures a [Client]. ClientID and exactly one of Key and
// Assertions are required; every other field has a safe zero value.
type Config struct {
	// ClientID is the client identifier the provider registered. Required.
	ClientID string
	// Key signs the client assertions, minted fresh for every request: a
	// *jwks.Key, or a *jwks.Ring that rotates. Exactly one of Key and
	// Assertions is required.
	Key jwks.KeySource
	// Assertions replaces the minter: every request asks it for a client
	// assertion (an externally minted workload identity token, say, through
	// [assertion.FromFile] or [assertion.SourceFunc]). It must yield a new
	// or freshly read assertion on every call. Profile, AssertionLifetime
	// and Certificate are then unused and must be zero.
	Assertions assertion.Source
	// Profile selects the audience of minted assertions: zero is
	// [assertion.ProfileRFC10070] (aud = the provider's issuer);
	// [assertion.ProfileLegacy] uses the token endpoint URL, for providers
	// that still demand it. It is a per-provider setting.
	Profile assertion.Profile
	// AssertionLifetime is the lifetime of minted assertions. Zero means
	// [assertion.DefaultLifetime] (5 minutes); longer is refused.
	AssertionLifetime time.Duration
	// Certificate is the X.509 certificate of the signing key, for
	// [assertion.ProfileLegacy] only: its SHA-256 thumbprint goes into the
	// assertion's "x5t#S256" header, as Microsoft Entra ID expects. Zero
	// sends none. See assertion.Config.Certificate.
	Certificate *x509.Certificate
	// RedirectURL is the redirect_uri of the login flow, registered at the
	// provider. Required for [Client.AuthCodeURL] (unless given per call
	// with [WithRedirectURL]); zero is fine for a client that only uses
	// the other grants. It must be an absolute URL without fragment.
	RedirectURL string
	// Scopes are requested at login besides "openid", which is always
	// requested. Zero requests "openid" only.
	Scopes []string
	// HTTPClient carries token requests and is the default base of
	// [TokenSource.Client]. Zero means a client with [DefaultTimeout],
	// never [http.DefaultClient]. For token requests a copy is used that
	// never follows redirects, and that gets [DefaultTimeout] when its
	// Timeout is zero.
	HTTPClient *http.Client
	// MaxResponseBytes bounds a token endpoint's body; a longer body is
	// ErrResponseTooLarge. Zero means [DefaultMaxResponseBytes] (1 MiB).
	MaxResponseBytes int64
	// Logger receives debug records of token requests (grant type, status,
	// duration; never a token). Zero discards them.
	Logger *slog.Logger
	// Now is the clock for transactions, token expiry and ID token checks.
	// Zero means time.Now.
	Now func() time.Time
	// Leeway is the clock skew allowed when checking ID token times. Zero
	// means [provider.DefaultLeeway] (one minute); at most
	// [provider.MaxLeeway].
	Leeway time.Duration
	// IDTokenAlgorithms is the allow-list of ID token signature algorithms,
	// intersected with the provider's id_token_signing_alg_values_supported.
	// Zero means RS256 only, the OpenID Connect default.
	IDTokenAlgorithms []jwks.Algorithm
	// TransactionMaxAge is how long a [Transaction] may wait for its
	// callback. Zero means [DefaultTransactionMaxAge] (10 minutes).
	TransactionMaxAge time.Duration
	// ExpiryDelta is how long before expiry a [TokenSource] replaces a
	// token. Zero means [DefaultExpiryDelta] (10 seconds).
	ExpiryDelta time.Duration
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
}

// New returns a Client of provider p for the client cfg describes. It
// validates everything at once and joins the problems with errors.Join:
// the [Config] fields (ErrInvalidConfig, and the assertion package's errors
// for the minter), the provider's code challenge methods
// (ErrPKCEUnsupported), the private_key_jwt pre-flight against the
// provider's metadata (a *provider.ClientAuthError, for the algorithm of
// the key's current signing key) and the ID token verifier's settings. It
// does no network I/O.
func New(p *provider.Provider, cfg Config) (*Client, error) {
	if p == nil {
		return nil, fmt.Errorf("exchange: nil provider; call provider.Discover first: %w", ErrInvalidConfig)
	}
	md := metadata{
		issuer:           p.Issuer(),
		authURL:          p.AuthorizationEndpoint(),
		tokenURL:         p.TokenEndpoint(),
		issRequired:      p.ISSParameterSupported(),
		challengeMethods: p.CodeChallengeMethods(),
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
	v, err := p.IDTokenVerifier(provider.VerifierConfig{
		ClientID:   cfg.ClientID,
		Algorithms: slices.Clone(cfg.IDTokenAlgorithms),
		Leeway:     cfg.Leeway,
		Now:        cfg.Now,
	})
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	c.verifier = v
	return c, nil
}

// metadata is what a Client needs of the provider.
type metadata struct {
	issuer, authURL, tokenURL string
	issRequired               bool
	challengeMethods          []string
}

// newClient validates cfg against md and builds the Client, without the ID
// token verifier.
func newClient(md metadata, cfg Config) (*Client, error) {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("exchange: "+format+": %w", append(a, ErrInvalidConfig)...))
	}
	if cfg.ClientID == "" {
		bad("Config.ClientID is empty; set the client_id the provider registered")
	}
	switch {
	case cfg.Key == nil && cfg.Assertions == nil:
		bad("neither Config.Key nor Config.Assertions is set; set one")
	case cfg.Key != nil && cfg.Assertions != nil:
		bad("both Config.Key and Config.Assertions are set; set one")
	case cfg.Assertions != nil && (cfg.Profile != assertion.ProfileRFC10070 || cfg.AssertionLifetime != 0 || cfg.Certificate != nil):
		bad("Config.Profile, Config.AssertionLifetime and Config.Certificate apply to minted assertions only; leave them zero with Config.Assertions")
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
		errs = append(errs, fmt.Errorf("exchange: the provider advertises code_challenge_methods_supported without S256: %w", ErrPKCEUnsupported))
	}
	src := cfg.Assertions
	if cfg.Key != nil && cfg.ClientID != "" {
		aud := md.issuer
		if cfg.Profile == assertion.ProfileLegacy {
			aud = md.tokenURL
		}
		m, err := assertion.NewMinter(cfg.Key, assertion.Config{
			ClientID:    cfg.ClientID,
			Audience:    aud,
			Profile:     cfg.Profile,
			Lifetime:    cfg.AssertionLifetime,
			Certificate: cfg.Certificate,
			Now:         cfg.Now,
		})
		if err != nil {
			errs = append(errs, err)
		}
		src = m
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
		c.txMaxAge = DefaultTransactionMaxAge
	}
	if c.expiryDelta == 0 {
		c.expiryDelta = DefaultExpiryDelta
	}
	maxBytes := cfg.MaxResponseBytes
	if maxBytes == 0 {
		maxBytes = DefaultMaxResponseBytes
	}
	c.ep = endpoint{url: md.tokenURL, hc: tokenHTTPClient(cfg.HTTPClient), maxBytes: maxBytes, now: c.now, logger: c.logger}
	return c, nil
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
	if u.Fragment != "" || u.RawFragment != "" || containsByte(s, '#') {
		return fmt.Errorf("%s has a fragment", quote(truncate(s, 128)))
	}
	return nil
}

func containsByte(s string, b byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			return true
		}
	}
	return false
}

// ClientID returns the client identifier.
func (c *Client) ClientID() string { return c.clientID }

// Issuer returns the issuer of the provider the client talks to.
func (c *Client) Issuer() string { return c.issuer }

// TokenEndpoint returns the token endpoint URL.
func (c *Client) TokenEndpoint() string { return c.ep.url }
