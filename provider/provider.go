package provider

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/pkjwt/pkjwt/internal/clock"
	"github.com/pkjwt/pkjwt/internal/httpread"
	"github.com/pkjwt/pkjwt/internal/jose"
	"github.com/pkjwt/pkjwt/jwks"
)

// The remote JWKS cache serves go-oidc users directly.
var _ oidc.KeySet = (*jwks.Remote)(nil)

// Config holds the optional settings of [Discover]. Every zero value is safe.
type Config struct {
	// HTTPClient is copied, and the copy is bounded: a zero Timeout becomes
	// 10 s, redirects are followed only to the same origin (never from https
	// to http, at most five), and every response body fails past
	// MaxBodyBytes. Nil starts from an empty client (http.DefaultTransport),
	// never http.DefaultClient itself. The bounded copy serves discovery and
	// the JWKS; [Provider.Config] hands out the same client without the body
	// limit.
	HTTPClient *http.Client
	// ClientAuthAlgorithm is the algorithm this client signs its
	// private_key_jwt assertions with. When set, Discover runs the
	// pre-flight: token_endpoint_auth_methods_supported must list
	// private_key_jwt (an absent member means client_secret_basic only) and,
	// when token_endpoint_auth_signing_alg_values_supported is listed, it
	// must contain this algorithm; otherwise Discover fails with a
	// *ClientAuthError. Zero skips the pre-flight at discovery (for
	// verification-only use); call [Provider.CheckPrivateKeyJWT] before
	// authenticating.
	ClientAuthAlgorithm jwks.Algorithm
	// InsecureSkipClientAuthCheck turns a failed private_key_jwt pre-flight
	// into a logged warning. Risk: the client may send assertions a
	// provider does not accept, or accepts under other rules than it
	// advertises. Use it only for a provider known to misreport its
	// metadata. Zero (false) fails closed.
	InsecureSkipClientAuthCheck bool
	// MaxBodyBytes bounds every response body read through the provider's
	// client: the discovery document, and the JWKS when KeySet.HTTPClient
	// is nil. Zero means 1 MiB; it must not be negative.
	MaxBodyBytes int64
	// KeySet configures the cache of the provider's JWK Set (jwks_uri). Its
	// zero HTTPClient, Now and Logger become the provider's; its other zero
	// values take the jwks defaults (MaxAge one hour).
	KeySet jwks.RemoteConfig
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Logger receives warnings no caller receives as errors (an overridden
	// pre-flight). Nil discards.
	Logger *slog.Logger
}

// Provider is a discovered OpenID Provider: its validated metadata, a
// bounded HTTP client and the cache of its JWK Set. It is immutable and
// safe for concurrent use.
type Provider struct {
	issuer  string
	meta    Metadata
	client  *http.Client // shared with bodies bounded at limit
	shared  *http.Client // timeout and redirect rule, no body limit
	limit   int64
	keys    *jwks.Remote
	now     func() time.Time
	log     *slog.Logger
	skipCAC bool
}

// Discover fetches the OpenID Provider Configuration of issuer (OIDC
// Discovery §4) and validates it:
//
//   - issuer is https (plain http only on loopback hosts), without query,
//     fragment or user information, and cfg is valid (ErrInvalidConfig);
//   - the body is at most MaxBodyBytes, the request is bounded by ctx and
//     the client's timeout, and no redirect leaves the issuer's origin
//     (ErrDiscovery);
//   - the document's issuer equals issuer exactly, or nothing else is
//     looked at; the required members are present with the right JSON
//     types, unknown members are ignored; every endpoint is https, plain
//     http on a loopback host only when the issuer itself is such a URL, so
//     an https issuer never leads to plain http (ErrInvalidMetadata);
//   - with Config.ClientAuthAlgorithm, the private_key_jwt pre-flight
//     (*ClientAuthError, ErrPrivateKeyJWTUnsupported).
//
// The discovery URL is issuer with one trailing slash removed, followed by
// /.well-known/openid-configuration. Discover does network I/O once; the
// JWK Set is fetched lazily by the first verification. Several problems of
// one document are joined with errors.Join.
func Discover(ctx context.Context, issuer string, cfg Config) (*Provider, error) {
	var errs []error
	if err := checkURL("issuer", issuer, true, errInsecureIssuer); err != nil {
		errs = append(errs, err)
	} else if strings.ContainsAny(issuer, "?") {
		errs = append(errs, fmt.Errorf("provider: issuer %q has a query: %w", short(issuer), errInsecureIssuer))
	}
	if a := cfg.ClientAuthAlgorithm; a != "" && !supportedAlg(a) {
		errs = append(errs, fmt.Errorf("provider: ClientAuthAlgorithm %q is not a supported asymmetric algorithm: %w", short(string(a)), ErrInvalidConfig))
	}
	if cfg.MaxBodyBytes < 0 {
		errs = append(errs, fmt.Errorf("provider: MaxBodyBytes %d is negative: %w", cfg.MaxBodyBytes, ErrInvalidConfig))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	limit := cfg.MaxBodyBytes
	if limit == 0 {
		limit = defaultMaxBodyBytes
	}
	shared := sharedClient(cfg.HTTPClient)
	p := &Provider{
		issuer:  issuer,
		client:  boundedClient(shared, limit),
		shared:  shared,
		limit:   limit,
		now:     clock.Or(cfg.Now),
		log:     cfg.Logger,
		skipCAC: cfg.InsecureSkipClientAuthCheck,
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	wellKnown := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	body, err := p.get(ctx, wellKnown, limit)
	if err != nil {
		return nil, err
	}
	p.meta, err = parseMetadata(body, issuer)
	if err != nil {
		return nil, err
	}
	kc := cfg.KeySet
	if kc.HTTPClient == nil {
		kc.HTTPClient = p.client
	}
	if kc.Now == nil {
		kc.Now = p.now
	}
	if kc.Logger == nil {
		kc.Logger = p.log
	}
	if p.keys, err = jwks.NewRemote(p.meta.JWKSURL, kc); err != nil {
		return nil, fmt.Errorf("provider: Config.KeySet for %s: %w: %w", short(issuer), ErrInvalidConfig, err)
	}
	if cfg.ClientAuthAlgorithm != "" {
		if err := p.CheckPrivateKeyJWT(cfg.ClientAuthAlgorithm); err != nil {
			p.keys.Close()
			return nil, err
		}
	}
	return p, nil
}

// get fetches url and returns its body, bounded by limit.
func (p *Provider) get(ctx context.Context, url string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("provider: discovery request: %v: %w", err, ErrDiscovery)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		if errors.Is(err, errRedirect) {
			return nil, fmt.Errorf("provider: fetch %s: %v: %w", url, errors.Unwrap(err), ErrDiscovery)
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("provider: fetch %s: %w: %w", url, ErrDiscovery, ctxErr)
		}
		return nil, fmt.Errorf("provider: fetch %s: %w: %w", url, ErrDiscovery, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("provider: fetch %s: status %d: %w", url, resp.StatusCode, ErrDiscovery)
	}
	body, err := httpread.All(resp.Body, limit)
	if err != nil {
		if errors.Is(err, httpread.ErrTooLarge) {
			return nil, fmt.Errorf("provider: fetch %s: body exceeds %d bytes: %w: %w", url, limit, ErrDiscovery, httpread.ErrTooLarge)
		}
		return nil, fmt.Errorf("provider: fetch %s: reading body: %w: %w", url, ErrDiscovery, err)
	}
	return body, nil
}

// parseMetadata decodes and validates a discovery document for issuer.
func parseMetadata(body []byte, issuer string) (Metadata, error) {
	raw := make(map[string][]byte, 32)
	if err := jose.Object(body, func(name, val []byte) error {
		raw[string(name)] = val
		return nil
	}); err != nil {
		return Metadata{}, fmt.Errorf("provider: discovery document: %v: %w", err, ErrInvalidMetadata)
	}
	r := metaReader{raw: raw, allowHTTP: strings.HasPrefix(issuer, "http:")}
	var m Metadata
	m.Issuer = r.str("issuer", true)
	if len(r.errs) > 0 {
		return Metadata{}, errors.Join(r.errs...)
	}
	if m.Issuer != issuer {
		return Metadata{}, fmt.Errorf("provider: discovery document names issuer %q, expected %q exactly: %w", short(m.Issuer), short(issuer), errIssuerMismatch)
	}
	m.AuthorizationEndpoint = r.url("authorization_endpoint", true)
	m.TokenEndpoint = r.url("token_endpoint", true)
	m.JWKSURL = r.url("jwks_uri", true)
	m.UserInfoEndpoint = r.url("userinfo_endpoint", false)
	m.EndSessionEndpoint = r.url("end_session_endpoint", false)
	m.RevocationEndpoint = r.url("revocation_endpoint", false)
	m.IntrospectionEndpoint = r.url("introspection_endpoint", false)
	m.PushedAuthorizationRequestEndpoint = r.url("pushed_authorization_request_endpoint", false)
	m.ResponseTypes = r.strs("response_types_supported", true)
	m.SubjectTypes = r.strs("subject_types_supported", true)
	m.IDTokenSigningAlgorithms = r.strs("id_token_signing_alg_values_supported", true)
	m.TokenEndpointAuthMethods = r.strs("token_endpoint_auth_methods_supported", false)
	m.TokenEndpointAuthSigningAlgorithms = r.strs("token_endpoint_auth_signing_alg_values_supported", false)
	m.CodeChallengeMethods = r.strs("code_challenge_methods_supported", false)
	m.DPoPSigningAlgorithms = r.strs("dpop_signing_alg_values_supported", false)
	m.ISSParameterSupported = r.boolean("authorization_response_iss_parameter_supported")
	m.RequirePushedAuthorizationRequests = r.boolean("require_pushed_authorization_requests")
	m.BackchannelLogoutSupported = r.boolean("backchannel_logout_supported")
	m.BackchannelLogoutSessionSupported = r.boolean("backchannel_logout_session_supported")
	if len(r.errs) > 0 {
		return Metadata{}, errors.Join(r.errs...)
	}
	return m, nil
}

// metaReader reads typed members of a discovery document, collecting every
// problem.
type metaReader struct {
	raw       map[string][]byte
	errs      []error
	allowHTTP bool // the issuer is plain http on a loopback host
}

// present reports whether name is present and not null.
func (r *metaReader) present(name string, required bool) ([]byte, bool) {
	v, ok := r.raw[name]
	if !ok || string(v) == "null" {
		if required {
			r.errs = append(r.errs, fmt.Errorf("provider: discovery document lacks required member %s: %w", name, ErrInvalidMetadata))
		}
		return nil, false
	}
	return v, true
}

func (r *metaReader) str(name string, required bool) string {
	v, ok := r.present(name, required)
	if !ok {
		return ""
	}
	s, ok := jose.String(v)
	if !ok {
		r.errs = append(r.errs, fmt.Errorf("provider: discovery member %s is not a string: %w", name, ErrInvalidMetadata))
		return ""
	}
	if s == "" && required {
		r.errs = append(r.errs, fmt.Errorf("provider: discovery member %s is empty: %w", name, ErrInvalidMetadata))
	}
	return s
}

func (r *metaReader) url(name string, required bool) string {
	s := r.str(name, required)
	if s == "" {
		return ""
	}
	if err := checkURL(name, s, r.allowHTTP, errInsecureEndpoint); err != nil {
		r.errs = append(r.errs, err)
		return ""
	}
	return s
}

func (r *metaReader) strs(name string, required bool) []string {
	v, ok := r.present(name, required)
	if !ok {
		return nil
	}
	l, ok := jose.Strings(v)
	if !ok {
		r.errs = append(r.errs, fmt.Errorf("provider: discovery member %s is not an array of strings: %w", name, ErrInvalidMetadata))
		return nil
	}
	if l == nil {
		l = []string{}
	}
	if len(l) == 0 && required {
		r.errs = append(r.errs, fmt.Errorf("provider: discovery member %s is empty: %w", name, ErrInvalidMetadata))
	}
	return l
}

func (r *metaReader) boolean(name string) bool {
	v, ok := r.present(name, false)
	if !ok {
		return false
	}
	if string(v) != "true" && string(v) != "false" {
		r.errs = append(r.errs, fmt.Errorf("provider: discovery member %s is not a boolean: %w", name, ErrInvalidMetadata))
	}
	return string(v) == "true"
}

// CheckPrivateKeyJWT runs the private_key_jwt pre-flight for a client that
// signs its assertions with alg: token_endpoint_auth_methods_supported must
// list private_key_jwt (absent means client_secret_basic only, OIDC
// Discovery §3) and, when token_endpoint_auth_signing_alg_values_supported is
// listed, it must contain alg exactly ("none" and HMAC entries never count).
// An empty alg checks the method only. It returns a *ClientAuthError
// (errors.Is ErrPrivateKeyJWTUnsupported), or nil, and also nil (after a
// logged warning) when Config.InsecureSkipClientAuthCheck is set. No I/O.
//
// EdDSA and Ed25519 (RFC 9864's fully-specified name) are the same signature
// with an Ed25519 key, yet one does not stand in for the other here: the
// assertion's alg header is the key's algorithm, and a provider compares
// that name exactly, with its list and with the alg of the client's
// registered key (oidc-provider does both). A provider that lists only
// Ed25519 accepts a client whose key was loaded with Algorithm jwks.Ed25519;
// for a key loaded as EdDSA the *ClientAuthError says so.
func (p *Provider) CheckPrivateKeyJWT(alg jwks.Algorithm) error {
	m := p.meta
	ok := contains(m.TokenEndpointAuthMethods, "private_key_jwt")
	if ok && alg != "" && m.TokenEndpointAuthSigningAlgorithms != nil {
		ok = !jose.Refused(string(alg)) && contains(m.TokenEndpointAuthSigningAlgorithms, string(alg))
	}
	if ok {
		return nil
	}
	err := &ClientAuthError{
		Issuer:     p.issuer,
		Methods:    append([]string(nil), m.TokenEndpointAuthMethods...),
		Algorithm:  alg,
		Algorithms: append([]string(nil), m.TokenEndpointAuthSigningAlgorithms...),
	}
	if m.TokenEndpointAuthMethods == nil {
		err.Methods = nil
	}
	if m.TokenEndpointAuthSigningAlgorithms == nil {
		err.Algorithms = nil
	}
	if p.skipCAC {
		p.log.Warn("provider: private_key_jwt pre-flight failed; continuing because InsecureSkipClientAuthCheck is set",
			slog.String("issuer", p.issuer), slog.String("alg", string(alg)), slog.String("error", err.Error()))
		return nil
	}
	return err
}

// Issuer returns the validated issuer identifier: the configured issuer,
// which the discovery document repeated exactly.
func (p *Provider) Issuer() string { return p.issuer }

// Endpoint returns the provider's endpoints for golang.org/x/oauth2 with
// AuthStyle oauth2.AuthStyleInParams: auto-detection would re-send the same
// form and so replay a client assertion.
func (p *Provider) Endpoint() oauth2.Endpoint {
	return oauth2.Endpoint{AuthURL: p.meta.AuthorizationEndpoint, TokenURL: p.meta.TokenEndpoint, AuthStyle: oauth2.AuthStyleInParams}
}

// KeySet returns the cache of the provider's JWK Set. It also serves as
// go-oidc's oidc.KeySet.
func (p *Provider) KeySet() *jwks.Remote { return p.keys }

// Close stops a key-set fetch in flight; later verifications fail with
// jwks.ErrFetch.
func (p *Provider) Close() error { return p.keys.Close() }

// supportedAlg reports whether a is an asymmetric algorithm the module's
// JOSE core signs and verifies with (compared exactly).
func supportedAlg(a jwks.Algorithm) bool {
	_, ok := jose.Lookup(string(a))
	return ok
}
