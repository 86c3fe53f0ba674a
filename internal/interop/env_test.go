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
	"time"

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
)

// The clients registered at both providers. Each test uses its own clients,
// so that the providers' refusal logs can be checked per client.
const (
	clientLoginRS256   = "login-rs256"
	clientLoginES256   = "login-es256"
	clientLoginEdDSA   = "login-eddsa"
	clientRefresh      = "refresh"
	clientCredentials  = "client-credentials"
	clientReplay       = "replay"
	clientLegacy       = "legacy"
	clientRotation     = "rotation"      // keys from a jwks_uri, next key published ahead
	clientRotationLate = "rotation-late" // keys from a jwks_uri, next key published late
)

// expectRefusals lists the clients whose tests provoke refusals on purpose.
// Every other client must never see one (checked after the run).
var expectRefusals = map[string]bool{
	clientReplay:       true,
	clientLegacy:       true,
	clientRotationLate: true,
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
	{clientRefresh, testkeys.RSA2048B, jwks.PS256},
	{clientCredentials, testkeys.P256B, jwks.ES256},
	{clientReplay, testkeys.RSA2048C, jwks.RS256},
	{clientLegacy, testkeys.Ed25519B, jwks.EdDSA},
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
	Name                string           `json:"name"`
	Audience            string           `json:"audience"`
	LoopbackJWKSOrigins []string         `json:"loopbackJWKSOrigins,omitempty"`
	Clients             []clientMetadata `json:"clients"`
}

// clientMetadata is the RFC 7591 client metadata server.mjs registers;
// it adds private_key_jwt, the grant types and response type code.
type clientMetadata struct {
	ClientID     string          `json:"client_id"`
	RedirectURIs []string        `json:"redirect_uris"`
	JWKS         json.RawMessage `json:"jwks,omitempty"`
	JWKSURI      string          `json:"jwks_uri,omitempty"`
}

// jwksServer serves a client's public JWK Set on loopback, as the provider
// fetches it from the client's jwks_uri, and counts the fetches.
type jwksServer struct {
	srv     *httptest.Server
	set     atomic.Pointer[jwks.Set]
	fetches atomic.Int64
}

func newJWKSServer(initial *jwks.Set) *jwksServer {
	s := &jwksServer{}
	s.set.Store(initial)
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write(s.set.Load().JSON())
	}))
	return s
}

// URL is the jwks_uri.
func (s *jwksServer) URL() string { return s.srv.URL + "/jwks.json" }

// publish replaces the served set.
func (s *jwksServer) publish(set *jwks.Set) { s.set.Store(set) }

// interopEnv is the running setup the tests share.
type interopEnv struct {
	node   *nodeServer
	stderr *syncBuffer
	// jwksURI serves the jwks_uri clients' keys, by client ID.
	jwksURI map[string]*jwksServer
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
	e := &interopEnv{stderr: &syncBuffer{}, jwksURI: map[string]*jwksServer{}}

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
	for _, id := range []string{clientRotation, clientRotationLate} {
		s := newJWKSServer(jwks.NewSet())
		e.jwksURI[id] = s
		origins = append(origins, s.srv.URL)
		clients = append(clients, clientMetadata{
			ClientID:     id,
			RedirectURIs: []string{redirectURI},
			JWKSURI:      s.URL(),
		})
	}
	cfg := serverConfig{Subject: subject}
	for _, mode := range []string{strictOP, lenientOP} {
		cfg.Providers = append(cfg.Providers, providerConfig{
			Name:                mode,
			Audience:            mode,
			LoopbackJWKSOrigins: origins,
			Clients:             clients,
		})
	}
	node, err := startNode(cfg, e.stderr)
	if err != nil {
		e.closeJWKS()
		return nil, err
	}
	e.node = node
	return e, nil
}

func (e *interopEnv) closeJWKS() {
	for _, s := range e.jwksURI {
		s.srv.Close()
	}
}

func (e *interopEnv) stop() error {
	err := e.node.stop()
	e.closeJWKS()
	return err
}

// refusal is one token endpoint error a provider reported (server.mjs's
// /__interop/events).
type refusal struct {
	Event     string `json:"event"`
	ClientID  string `json:"client_id"`
	GrantType string `json:"grant_type"`
	Error     string `json:"error"`
	Detail    string `json:"detail"`
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

// checkRefusals fails when a provider refused a request that no test meant to
// be refused: above all, a replay refusal the library caused.
func (e *interopEnv) checkRefusals() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	for _, name := range []string{strictOP, lenientOP} {
		all, err := e.refusals(ctx, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s provider: %v", name, err))
			continue
		}
		for _, r := range all {
			if r.Event != "grant.error" || !expectRefusals[r.ClientID] {
				errs = append(errs, fmt.Errorf("%s provider refused a request no test meant to be refused: %+v", name, r))
			}
		}
	}
	return errors.Join(errs...)
}
