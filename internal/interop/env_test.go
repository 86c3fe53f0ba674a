package interop_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkjwt/pkjwt/internal/clock"
	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
)

// redirectURI is registered for every client. Nothing listens there: the
// user agent in authorize stops at the redirect and hands back its URL.
const redirectURI = "http://127.0.0.1/interop/callback"

// subject is the account server.mjs logs every user in as.
const subject = "interop-user"

// Provider names in the server configuration.
const (
	strictOP  = "strict"
	lenientOP = "lenient"
	// fapi2OP is the FAPI 2.0 instance: PAR required, DPoP with nonces,
	// PS256/ES256/EdDSA only, strict audience. Only the clients of
	// fapi2Clients are registered there.
	fapi2OP = "fapi2"
)

// The clients registered at both providers. Each test uses its own clients,
// so that the providers' refusal logs can be checked per client.
const (
	clientLoginRS256   = "login-rs256"
	clientLoginES256   = "login-es256"
	clientLoginEdDSA   = "login-eddsa"
	clientEd25519      = "ed25519" // RFC 9864's name: key and assertions say "Ed25519", see ed25519_test.go
	clientRefresh      = "refresh"
	clientOAuth2       = "oauth2"      // x/oauth2 and assertion without exchange
	clientCodeReplay   = "code-replay" // a callback redeemed twice
	clientCredentials  = "client-credentials"
	clientReplay       = "replay"
	clientLegacy       = "legacy"
	clientRotation     = "rotation"      // keys from a jwks_uri, next key published ahead
	clientRotationLate = "rotation-late" // keys from a jwks_uri, next key published late
	clientGuarded      = "ssrf-guarded"  // a loopback jwks_uri server.mjs does not allow
	clientProbe        = "probe"         // hand-made assertions, see TestInteropAssertionRules
	clientProbeES384   = "probe-es384"   // a P-384 key, outside oidc-provider's default algorithms
)

// expectRefusals lists the clients whose tests provoke refusals on purpose.
// Every other client must never see one (checked after the run).
var expectRefusals = map[string]bool{
	clientReplay:       true,
	clientCodeReplay:   true,
	clientLegacy:       true,
	clientRotationLate: true,
	clientGuarded:      true,
	clientProbe:        true,
	clientProbeES384:   true,
	clientGrantProbe:   true,
	clientFAPI2Probe:   true,
	clientEd25519:      true, // an EdDSA assertion against its Ed25519 key, refused on purpose
}

// staticClient is a client registered with a static jwks.
type staticClient struct {
	id  string
	key string // testkeys name
	alg jwks.Algorithm
}

var staticClients = []staticClient{
	{clientLoginRS256, testkeys.RSA2048A, jwks.RS256},
	{clientLoginES256, testkeys.P256A, jwks.ES256},
	{clientLoginEdDSA, testkeys.Ed25519A, jwks.EdDSA},
	{clientEd25519, testkeys.Ed25519A, jwks.Ed25519},
	{clientRefresh, testkeys.RSA2048B, jwks.PS256},
	{clientOAuth2, testkeys.RSA2048C, jwks.RS256},
	{clientCodeReplay, testkeys.P256B, jwks.ES256},
	{clientCredentials, testkeys.P256B, jwks.ES256},
	{clientReplay, testkeys.RSA2048C, jwks.RS256},
	{clientLegacy, testkeys.Ed25519B, jwks.EdDSA},
	{clientProbe, testkeys.P256A, jwks.ES256},
	{clientProbeES384, testkeys.P384, jwks.ES384},
}

// rotationKeys are the keys the jwks_uri clients rotate from and to: from
// RSA to Ed25519, so that the key type changes too.
var rotationKeys = [2]struct {
	key string
	alg jwks.Algorithm
}{
	{testkeys.RSA2048A, jwks.RS256},
	{testkeys.Ed25519A, jwks.EdDSA},
}

// loadKey parses a pre-generated test key.
func loadKey(name string, alg jwks.Algorithm) (*jwks.Key, error) {
	return jwks.ParsePEM(testkeys.PEM(name), jwks.KeyConfig{Algorithm: alg})
}

// staticKey returns the signing key of a static client.
func staticKey(id string) (*jwks.Key, error) {
	for _, c := range staticClients {
		if c.id == id {
			return loadKey(c.key, c.alg)
		}
	}
	return nil, fmt.Errorf("no static client %q", id)
}

// serverConfig is server.mjs's configuration.
type serverConfig struct {
	Subject   string           `json:"subject"`
	Providers []providerConfig `json:"providers"`
}

type providerConfig struct {
	Name     string `json:"name"`
	Audience string `json:"audience"`
	// Profile is "" for the baseline instances or "fapi2".
	Profile             string   `json:"profile,omitempty"`
	LoopbackJWKSOrigins []string `json:"loopbackJWKSOrigins,omitempty"`
	// LoopbackBackchannelOrigins are the origins of backchannel_logout_uri
	// receivers the provider may POST to past its SSRF guard.
	LoopbackBackchannelOrigins []string         `json:"loopbackBackchannelOrigins,omitempty"`
	Clients                    []clientMetadata `json:"clients"`
}

// clientMetadata is the RFC 7591 client metadata server.mjs registers;
// it adds private_key_jwt, the grant types and response type code.
type clientMetadata struct {
	ClientID     string          `json:"client_id"`
	RedirectURIs []string        `json:"redirect_uris"`
	JWKS         json.RawMessage `json:"jwks,omitempty"`
	JWKSURI      string          `json:"jwks_uri,omitempty"`

	// The members below are optional: zero leaves server.mjs's default
	// (grant types authorization_code, refresh_token and
	// client_credentials; on the fapi2 instance DPoP-bound access tokens
	// and PS256 ID tokens).
	GrantTypes                       []string `json:"grant_types,omitempty"`
	PostLogoutRedirectURIs           []string `json:"post_logout_redirect_uris,omitempty"`
	BackchannelLogoutURI             string   `json:"backchannel_logout_uri,omitempty"`
	BackchannelLogoutSessionRequired *bool    `json:"backchannel_logout_session_required,omitempty"`
	UserinfoSignedResponseAlg        string   `json:"userinfo_signed_response_alg,omitempty"`
	IDTokenSignedResponseAlg         string   `json:"id_token_signed_response_alg,omitempty"`
	// DPoPBoundAccessTokens is a pointer so that false can be sent to the
	// fapi2 instance, whose default is true.
	DPoPBoundAccessTokens *bool `json:"dpop_bound_access_tokens,omitempty"`
}

// rotatingClient is a client whose keys the provider fetches from its
// jwks_uri: a jwks.Handler over a jwks.Ring on loopback, with the ring on a
// manual clock so that a test moves it through a rotation at once. The
// provider's own clock is real: it caches the fetched set for at least a
// minute (or the handler's max-age, five minutes, when longer).
//
// Each test run starts a new ring with reset (go test -count=N runs a test
// N times against the same provider); the handler serves the current one.
type rotatingClient struct {
	current atomic.Pointer[rotation]
	srv     *httptest.Server
	fetches atomic.Int64
}

// rotation is one run's ring and its clock.
type rotation struct {
	clock *clock.Manual
	ring  *jwks.Ring
}

// rotationLead is the ring's publication lead. The manual clock makes its
// size irrelevant to the suite's run time.
const rotationLead = 10 * time.Minute

func newRotatingClient() (*rotatingClient, error) {
	c := &rotatingClient{}
	if _, err := c.reset(); err != nil {
		return nil, err
	}
	h := jwks.NewHandler(c, jwks.HandlerConfig{})
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.fetches.Add(1)
		h.ServeHTTP(w, r)
	}))
	return c, nil
}

// reset starts a new ring on a new manual clock, with the first rotation key
// active since an hour ago, and serves it from now on.
func (c *rotatingClient) reset() (*rotation, error) {
	first, err := loadKey(rotationKeys[0].key, rotationKeys[0].alg)
	if err != nil {
		return nil, err
	}
	clk := clock.NewManual(time.Now())
	ring, err := jwks.NewRing(jwks.RingConfig{Lead: rotationLead, Now: clk.Now},
		jwks.Entry{Key: first, Activate: clk.Now().Add(-time.Hour)})
	if err != nil {
		return nil, err
	}
	r := &rotation{clock: clk, ring: ring}
	c.current.Store(r)
	return r, nil
}

// PublicSet serves the current ring's set: rotatingClient is the handler's
// jwks.SetSource.
func (c *rotatingClient) PublicSet() *jwks.Set { return c.current.Load().ring.PublicSet() }

// URL is the client's jwks_uri.
func (c *rotatingClient) URL() string { return c.srv.URL + "/.well-known/jwks.json" }

// interopEnv is the running setup the tests share.
type interopEnv struct {
	node   *nodeServer
	stderr *syncBuffer
	// rotating holds the jwks_uri clients, by client ID.
	rotating map[string]*rotatingClient
	// backchannel receives the back-channel logout tokens of the clients
	// registered with one (see rp_env_test.go).
	backchannel *backchannelReceiver
}

// issuer returns the issuer URL of the named provider.
func (e *interopEnv) issuer(name string) string { return e.node.issuers[name] }

func setup() (*interopEnv, error) {
	if err := checkNode(); err != nil {
		return nil, err
	}
	if err := installProvider(); err != nil {
		return nil, err
	}
	e := &interopEnv{stderr: &syncBuffer{}, rotating: map[string]*rotatingClient{}, backchannel: newBackchannelReceiver()}

	var clients []clientMetadata
	for _, c := range staticClients {
		k, err := loadKey(c.key, c.alg)
		if err != nil {
			return nil, fmt.Errorf("client %s: %v", c.id, err)
		}
		clients = append(clients, clientMetadata{
			ClientID:     c.id,
			RedirectURIs: []string{redirectURI},
			JWKS:         jwks.NewSet(k).JSON(),
		})
	}
	var origins []string
	for _, id := range []string{clientRotation, clientRotationLate, clientGuarded} {
		c, err := newRotatingClient()
		if err != nil {
			e.closeJWKS()
			return nil, fmt.Errorf("client %s: %v", id, err)
		}
		e.rotating[id] = c
		if id != clientGuarded {
			origins = append(origins, c.srv.URL)
		}
		clients = append(clients, clientMetadata{
			ClientID:     id,
			RedirectURIs: []string{redirectURI},
			JWKSURI:      c.URL(),
		})
	}
	cfg := serverConfig{Subject: subject}
	for _, mode := range []string{strictOP, lenientOP} {
		extra, err := e.extraClientMetadata(mode)
		if err != nil {
			e.closeJWKS()
			return nil, err
		}
		cfg.Providers = append(cfg.Providers, providerConfig{
			Name:                       mode,
			Audience:                   mode,
			LoopbackJWKSOrigins:        origins,
			LoopbackBackchannelOrigins: []string{e.backchannel.srv.URL},
			Clients:                    append(slices.Clip(clients), extra...),
		})
	}
	fapi2, err := e.extraClientMetadata(fapi2OP)
	if err != nil {
		e.closeJWKS()
		return nil, err
	}
	cfg.Providers = append(cfg.Providers, providerConfig{
		Name:     fapi2OP,
		Audience: strictOP,
		Profile:  "fapi2",
		Clients:  fapi2,
	})
	node, err := startNode(cfg, e.stderr)
	if err != nil {
		e.closeJWKS()
		return nil, err
	}
	e.node = node
	return e, nil
}

func (e *interopEnv) closeJWKS() {
	for _, c := range e.rotating {
		c.srv.Close()
	}
	e.backchannel.srv.Close()
}

func (e *interopEnv) stop() error {
	err := e.node.stop()
	e.closeJWKS()
	return err
}

// refusal is one token endpoint error a provider reported (server.mjs's
// /__interop/events).
type refusal struct {
	Event       string `json:"event"`
	ClientID    string `json:"client_id"`
	GrantType   string `json:"grant_type"`
	Error       string `json:"error"`
	Description string `json:"description"`
	Detail      string `json:"detail"`
}

// replayDetail is oidc-provider's error_detail for a reused client assertion.
const replayDetail = "client assertion tokens must only be used once"

// refusals fetches the refusals the named provider has logged so far.
func (e *interopEnv) refusals(ctx context.Context, name string) ([]refusal, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.issuer(name)+"/__interop/events", nil)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /__interop/events: status %d", resp.StatusCode)
	}
	var out []refusal
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("GET /__interop/events: %v", err)
	}
	return out, nil
}

// refusalsFor returns the named provider's refusals for one client.
func (e *interopEnv) refusalsFor(ctx context.Context, name, clientID string) ([]refusal, error) {
	all, err := e.refusals(ctx, name)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(r refusal) bool { return r.ClientID != clientID }), nil
}

// refusalMark returns how many refusals the named provider has logged for
// clientID so far, for refusalsSince.
func (e *interopEnv) refusalMark(t *testing.T, name, clientID string) int {
	t.Helper()
	refs, err := e.refusalsFor(t.Context(), name, clientID)
	if err != nil {
		t.Fatal(err)
	}
	return len(refs)
}

// refusalsSince returns the refusals the named provider logged for clientID
// after mark, so that a test stays right when go test -count runs it again.
func (e *interopEnv) refusalsSince(t *testing.T, name, clientID string, mark int) []refusal {
	t.Helper()
	refs, err := e.refusalsFor(t.Context(), name, clientID)
	if err != nil {
		t.Fatal(err)
	}
	if mark > len(refs) {
		t.Fatalf("refusal log of %s shrank from %d to %d", clientID, mark, len(refs))
	}
	return refs[mark:]
}

// checkRefusals fails when a provider refused a request that no test meant to
// be refused: above all, a replay refusal the library caused.
func (e *interopEnv) checkRefusals() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	for _, name := range []string{strictOP, lenientOP, fapi2OP} {
		all, err := e.refusals(ctx, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s provider: %v", name, err))
			continue
		}
		for _, r := range all {
			if r.Event == "grant.error" && r.Error == "use_dpop_nonce" {
				// A DPoP nonce challenge (RFC 9449 §8) is the protocol
				// asking for a retry, not a refusal.
				continue
			}
			if r.Event != "grant.error" || !expectRefusals[r.ClientID] {
				errs = append(errs, fmt.Errorf("%s provider refused a request no test meant to be refused: %+v", name, r))
			}
		}
	}
	return errors.Join(errs...)
}
