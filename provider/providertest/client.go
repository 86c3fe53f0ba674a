package providertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/pkjwt/pkjwt/internal/httpread"
	"github.com/pkjwt/pkjwt/jwks"
)

// Grant types the token endpoint knows.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
	GrantJWTBearer         = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	GrantTokenExchange     = "urn:ietf:params:oauth:grant-type:token-exchange"
)

// ClientAssertionType is the only client_assertion_type accepted (RFC 7523 §2.2).
const ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

var allGrants = []string{GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials, GrantJWTBearer, GrantTokenExchange}

// defaultAlgorithms are the client assertion algorithms oidc-provider 9
// accepts by default (its enabled JWA algorithms for client
// authentication, less the HMAC ones and its "Ed25519" alias of EdDSA).
var defaultAlgorithms = []jwks.Algorithm{jwks.RS256, jwks.PS256, jwks.ES256, jwks.EdDSA}

// checkAlgorithms returns the errors of an algorithm list: none, HMAC and
// algorithms jwks does not support.
func checkAlgorithms(who string, algs []jwks.Algorithm) []error {
	var errs []error
	for _, a := range algs {
		if refusedAlg(string(a)) || !slices.Contains(supportedAlgorithms, a) {
			errs = append(errs, fmt.Errorf("providertest: %s: algorithm %q is not allowed; use asymmetric algorithms such as RS256, ES256 or EdDSA", who, a))
		}
	}
	return errs
}

// Client is a client registered at the server, authenticating with
// private_key_jwt. Exactly one of JWKS, JWKSJSON and JWKSURL must be set.
type Client struct {
	// ID is the client_id. Required.
	ID string
	// JWKS holds the client's public keys. Private keys are refused.
	JWKS jose.JSONWebKeySet
	// JWKSJSON holds the client's public keys as a JWK Set document, as a
	// client would paste it into a registration form. Keys the server
	// cannot use (unknown types or curves, use "enc", private keys) are
	// skipped; a set with no usable key is refused.
	JWKSJSON []byte
	// JWKSURL is the client's jwks_uri. The server fetches it when it first
	// needs a key, caches it for Config.ClientJWKSMaxAge, and fetches it
	// again on an unknown kid at most once per Config.ClientJWKSMinRefresh;
	// a failed fetch is not retried within that interval either. Like
	// oidc-provider, it honours the response's Cache-Control max-age: no
	// refetch, not even for an unknown kid, before max-age has passed, so a
	// client must publish a new key longer than its own max-age before use.
	JWKSURL string
	// Algorithms are the assertion algorithms allowed
	// (token_endpoint_auth_signing_alg). Each must be among the server's
	// Config.ClientAuthAlgorithms; none and HMAC are refused at
	// registration. Zero allows all of Config.ClientAuthAlgorithms.
	Algorithms []jwks.Algorithm
	// RedirectURIs are compared exactly with redirect_uri at the
	// authorization endpoint. Zero means the client cannot use it.
	RedirectURIs []string
	// GrantTypes are the grant types the client may use, among the Grant…
	// constants. Zero means authorization_code and refresh_token.
	GrantTypes []string
	// UserInfoSigned answers the client's userinfo requests with a JWT
	// (Content-Type application/jwt, OIDC Core §5.3.2) signed like ID
	// tokens, with iss and aud (the client ID) beside the user's claims:
	// what userinfo_signed_response_alg asks for at registration. Zero
	// answers JSON.
	UserInfoSigned bool
	// PostLogoutRedirectURIs are compared exactly with
	// post_logout_redirect_uri at the end-session endpoint (OpenID Connect
	// RP-Initiated Logout 1.0 §3). Zero means the end-session endpoint
	// never redirects for the client.
	PostLogoutRedirectURIs []string
	// BackchannelLogoutURI is where logout tokens are POSTed (OpenID
	// Connect Back-Channel Logout 1.0 §2.2). It must be an http(s) URL on a
	// loopback host (127.0.0.1, ::1 or localhost): this server only talks
	// to tests. Zero means the client gets no logout tokens.
	BackchannelLogoutURI string
	// BackchannelLogoutSessionRequired says the client needs sid in logout
	// tokens; [Server.SendLogoutToken] then refuses to send one without a
	// session ID. Zero allows logout tokens with sub alone.
	BackchannelLogoutSessionRequired bool
}

// clientState is a registered client with its key cache.
type clientState struct {
	Client
	algs   []jose.SignatureAlgorithm
	static []jose.JSONWebKey // nil when JWKSURL is used

	// sem allows one fetch of JWKSURL in flight.
	sem chan struct{}
	// guards keys, fetched, hold, failed, lastErr
	mu      sync.Mutex
	keys    []jose.JSONWebKey
	fetched time.Time     // last successful fetch
	hold    time.Duration // the fetched set's Cache-Control max-age, 0 when absent
	failed  time.Time     // last failed fetch, if after fetched
	lastErr error
}

// RegisterClient registers c, replacing any client with the same ID (and
// its cached keys). It does no network I/O: a JWKSURL is fetched when first
// needed. It returns an error when c is invalid: no ID, not exactly one key
// source, private or unusable keys, none or HMAC algorithms, algorithms
// outside Config.ClientAuthAlgorithms, unknown grant types, redirect or
// post-logout redirect URIs that are not absolute URLs without a fragment,
// or a BackchannelLogoutURI that is not an http(s) URL on a loopback host.
func (s *Server) RegisterClient(c Client) error {
	cs, err := newClientState(c, s.cfg.ClientAuthAlgorithms)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.clients[c.ID] = cs
	s.mu.Unlock()
	return nil
}

// newClientState validates c against the server's client authentication
// algorithms serverAlgs.
func newClientState(c Client, serverAlgs []jwks.Algorithm) (*clientState, error) {
	var errs []error
	if c.ID == "" {
		errs = append(errs, errors.New("providertest: client ID is empty"))
	}
	n := 0
	if len(c.JWKS.Keys) > 0 {
		n++
	}
	if len(c.JWKSJSON) > 0 {
		n++
	}
	if c.JWKSURL != "" {
		n++
		if u, err := url.Parse(c.JWKSURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("providertest: client %q: jwks_uri is not an absolute http(s) URL", c.ID))
		}
	}
	if n != 1 {
		errs = append(errs, fmt.Errorf("providertest: client %q: set exactly one of JWKS, JWKSJSON and JWKSURL", c.ID))
	}
	cs := &clientState{sem: make(chan struct{}, 1)}
	cs.Client = Client{
		ID:           c.ID,
		JWKS:         jose.JSONWebKeySet{Keys: slices.Clone(c.JWKS.Keys)},
		JWKSJSON:     slices.Clone(c.JWKSJSON),
		JWKSURL:      c.JWKSURL,
		Algorithms:   slices.Clone(c.Algorithms),
		RedirectURIs: slices.Clone(c.RedirectURIs),
		GrantTypes:   slices.Clone(c.GrantTypes),

		UserInfoSigned:                   c.UserInfoSigned,
		PostLogoutRedirectURIs:           slices.Clone(c.PostLogoutRedirectURIs),
		BackchannelLogoutURI:             c.BackchannelLogoutURI,
		BackchannelLogoutSessionRequired: c.BackchannelLogoutSessionRequired,
	}
	errs = append(errs, checkLogoutURIs(cs.Client)...)
	if len(cs.Algorithms) == 0 {
		cs.Algorithms = slices.Clone(serverAlgs)
	}
	if e := checkAlgorithms(fmt.Sprintf("client %q", c.ID), cs.Algorithms); e != nil {
		errs = append(errs, e...)
	} else {
		for _, a := range cs.Algorithms {
			if !slices.Contains(serverAlgs, a) {
				errs = append(errs, fmt.Errorf("providertest: client %q: algorithm %s is not among the server's ClientAuthAlgorithms %v", c.ID, a, serverAlgs))
				continue
			}
			cs.algs = append(cs.algs, jose.SignatureAlgorithm(a))
		}
	}
	if len(cs.GrantTypes) == 0 {
		cs.GrantTypes = []string{GrantAuthorizationCode, GrantRefreshToken}
	}
	for _, g := range cs.GrantTypes {
		if !slices.Contains(allGrants, g) {
			errs = append(errs, fmt.Errorf("providertest: client %q: unknown grant type %q", c.ID, g))
		}
	}
	for _, r := range cs.RedirectURIs {
		u, err := url.Parse(r)
		if err != nil || !u.IsAbs() || u.Fragment != "" || u.Host == "" {
			errs = append(errs, fmt.Errorf("providertest: client %q: redirect URI %q is not an absolute URL without fragment", c.ID, r))
		}
	}
	switch {
	case len(c.JWKS.Keys) > 0:
		for i, k := range c.JWKS.Keys {
			if !k.IsPublic() || !k.Valid() {
				errs = append(errs, fmt.Errorf("providertest: client %q: key %d (kid %q) is not a valid public key", c.ID, i, k.KeyID))
				continue
			}
			if k.Use != "" && k.Use != "sig" {
				continue
			}
			cs.static = append(cs.static, k)
		}
		if len(cs.static) == 0 && len(errs) == 0 {
			errs = append(errs, fmt.Errorf("providertest: client %q: no signing key in JWKS", c.ID))
		}
	case len(c.JWKSJSON) > 0:
		keys, err := parseClientJWKS(c.JWKSJSON)
		if err != nil {
			errs = append(errs, fmt.Errorf("providertest: client %q: %w", c.ID, err))
		}
		cs.static = keys
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return cs, nil
}

// parseClientJWKS parses a JWK Set, skipping keys that cannot verify
// signatures. A set without a usable key is an error.
func parseClientJWKS(b []byte) ([]jose.JSONWebKey, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("providertest: JWKS is not a JSON object with keys: %v: %w", err, ErrClientJWKS)
	}
	var out []jose.JSONWebKey
	for _, raw := range doc.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil {
			continue
		}
		if !k.Valid() || !k.IsPublic() || (k.Use != "" && k.Use != "sig") {
			continue
		}
		out = append(out, k)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("providertest: JWKS holds no usable public signing key: %w", ErrClientJWKS)
	}
	return out, nil
}

// clientKeys returns the keys to try for kid ("" = all). It fetches
// JWKSURL when nothing is cached, the cache is older than the maximum age,
// or kid is unknown and the minimum refresh interval has passed. The fetch
// runs without holding s.mu.
func (s *Server) clientKeys(ctx context.Context, cs *clientState, kid string) ([]jose.JSONWebKey, error) {
	if cs.static != nil {
		return cs.static, nil
	}
	now := s.now()
	cs.mu.Lock()
	keys, fetched, hold, failed, lastErr := cs.keys, cs.fetched, cs.hold, cs.failed, cs.lastErr
	cs.mu.Unlock()
	minRefresh := max(s.cfg.ClientJWKSMinRefresh, hold)
	fresh := !fetched.IsZero() && now.Sub(fetched) < max(s.cfg.ClientJWKSMaxAge, hold)
	if fresh && (kid == "" || hasKID(keys, kid) || now.Sub(fetched) < minRefresh) {
		return keys, nil
	}
	// A failed fetch is not retried before the minimum refresh interval.
	if !failed.IsZero() && now.Sub(failed) < s.cfg.ClientJWKSMinRefresh {
		if fresh {
			return keys, nil
		}
		return nil, lastErr
	}
	// Fetch, one at a time.
	select {
	case cs.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("providertest: fetch client JWKS: %w", ctx.Err())
	}
	defer func() { <-cs.sem }()
	// Another request may have fetched (or failed) while this one waited.
	cs.mu.Lock()
	if cs.fetched.After(fetched) {
		keys := cs.keys
		cs.mu.Unlock()
		return keys, nil
	}
	if cs.failed.After(failed) {
		err := cs.lastErr
		cs.mu.Unlock()
		return nil, err
	}
	cs.mu.Unlock()
	keys, hold, err := s.fetchClientJWKS(ctx, cs.JWKSURL, !fetched.IsZero())
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if err != nil {
		if ctx.Err() == nil { // the caller giving up is not the client's failure
			cs.failed, cs.lastErr = s.now(), err
		}
		return nil, err
	}
	cs.keys, cs.fetched, cs.hold, cs.failed, cs.lastErr = keys, s.now(), hold, time.Time{}, nil
	return keys, nil
}

func hasKID(keys []jose.JSONWebKey, kid string) bool {
	for _, k := range keys {
		if k.KeyID == kid {
			return true
		}
	}
	return false
}

// fetchClientJWKS fetches a client's JWK Set and returns its usable keys and
// the response's Cache-Control max-age (zero when absent, capped at a day).
func (s *Server) fetchClientJWKS(ctx context.Context, u string, noCache bool) ([]jose.JSONWebKey, time.Duration, error) {
	s.count(EndpointClientJWKS)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("providertest: fetch client JWKS: %v: %w", err, ErrClientJWKS)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	if noCache {
		req.Header.Set("Cache-Control", "no-cache")
	}
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("providertest: fetch client JWKS: %v: %w", err, ErrClientJWKS)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("providertest: fetch client JWKS: status %d: %w", resp.StatusCode, ErrClientJWKS)
	}
	b, err := httpread.All(resp.Body, maxClientJWKSBytes)
	if err != nil {
		return nil, 0, fmt.Errorf("providertest: fetch client JWKS: %v: %w", err, ErrClientJWKS)
	}
	keys, err := parseClientJWKS(b)
	if err != nil {
		return nil, 0, err
	}
	return keys, cacheMaxAge(resp.Header), nil
}

// cacheMaxAge reads max-age from Cache-Control, capped at a day; zero when
// absent or malformed.
func cacheMaxAge(h http.Header) time.Duration {
	for _, line := range h.Values("Cache-Control") {
		for _, d := range strings.Split(line, ",") {
			v, ok := strings.CutPrefix(strings.ToLower(strings.TrimSpace(d)), "max-age=")
			if !ok {
				continue
			}
			n, err := strconv.ParseInt(strings.Trim(v, `"`), 10, 64)
			if err != nil || n <= 0 {
				return 0
			}
			return time.Duration(min(n, 86400)) * time.Second
		}
	}
	return 0
}

// supportedAlgorithms are the asymmetric algorithms jwks signs with.
var supportedAlgorithms = []jwks.Algorithm{jwks.RS256, jwks.RS384, jwks.RS512, jwks.PS256, jwks.PS384, jwks.PS512, jwks.ES256, jwks.ES384, jwks.ES512, jwks.EdDSA}

// refusedAlg reports whether name is "none" or an HMAC algorithm in any
// letter case: this package's own rule, independent of the library's.
func refusedAlg(name string) bool {
	return strings.EqualFold(name, "none") || (len(name) >= 2 && strings.EqualFold(name[:2], "hs"))
}
