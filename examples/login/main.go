// Command login is a server-side web app that signs users in with OpenID
// Connect and authenticates itself to the provider with a private key
// (private_key_jwt) instead of a client secret.
//
// With no flags it starts an embedded mock provider and runs the whole login
// headlessly, printing each step and the verified claims:
//
//	go run ./examples/login
//
// With -serve it serves the app for a browser (a page with a "Log in" button,
// the callback, a page with the verified claims and UserInfo, log out at the
// provider, and the back-channel logout URI) at -addr. Half-finished logins
// live in sealed cookies, not on the server:
//
//	go run ./examples/login -serve
//
// Against a real provider (Criipto Verify, say), register the client with
// private_key_jwt, the redirect URI http://127.0.0.1:8080/callback and either
// the app's JWKS URL (http://…/.well-known/jwks.json, served by the app) or
// the public JWKS that examples/keygen prints, then:
//
//	JWT_PRIVATE_KEY=… go run ./examples/login -issuer https://example.criipto.id -client-id urn:my:app
//
// With -fapi2 it runs the FAPI 2.0 login instead (pushed authorization
// request, DPoP-bound tokens with nonces, PKCE, iss), against the embedded
// provider or, with -issuer, a real one:
//
//	go run ./examples/login -fapi2
//
// The key comes from -key-env (a variable holding a base64 PEM) or
// -key-file, with -alg when the key does not imply its algorithm (an RSA key
// for PS256, say); with neither the app generates one for this run. Tokens,
// codes, assertions and keys are never printed or logged.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"time"

	"github.com/pkjwt/pkjwt/assertion"
	"github.com/pkjwt/pkjwt/exchange"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider"
	"github.com/pkjwt/pkjwt/provider/providertest"

	"github.com/pkjwt/pkjwt/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	code := cli.ExitCode("login", run(ctx, os.Args[1:], os.Stdout, os.Stderr), os.Stderr)
	stop()
	os.Exit(code)
}

// config is the parsed command line.
type config struct {
	issuer, clientID    string
	keyEnv, keyFile     string
	keyAlgorithm        jwks.Algorithm
	serve               bool
	addr, redirectURL   string
	scopes              string
	legacyAudience      bool
	skipClientAuthCheck bool
	embeddedUserSubject string
	fapi2               bool
}

const (
	embeddedClientID = "pkjwt-login-example"
	embeddedSubject  = "248289761001"
)

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{embeddedUserSubject: embeddedSubject}
	fs := flag.NewFlagSet("login", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.issuer, "issuer", "", "issuer URL of a real provider; empty starts an embedded mock provider")
	fs.StringVar(&c.clientID, "client-id", "", "client ID registered at the provider (required with -issuer)")
	fs.StringVar(&c.keyEnv, "key-env", "", "environment variable holding the client's private key as base64 PEM (such as JWT_PRIVATE_KEY)")
	fs.StringVar(&c.keyFile, "key-file", "", "file holding the client's private key as PEM")
	fs.StringVar((*string)(&c.keyAlgorithm), "alg", "", "algorithm the key signs with, as examples/keygen printed it (such as PS256); empty derives it from the key: RS256 for RSA, ES256/ES384/ES512 by curve, EdDSA")
	fs.BoolVar(&c.serve, "serve", false, "serve the app for a browser at -addr (implied by -issuer)")
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "address the app listens on with -serve")
	fs.StringVar(&c.redirectURL, "redirect-url", "", "redirect URI registered at the provider; empty means http://ADDR/callback")
	fs.StringVar(&c.scopes, "scopes", "email profile", "scopes requested besides openid, space-separated")
	fs.BoolVar(&c.fapi2, "fapi2", false, "FAPI 2.0 login: pushed authorization request, DPoP-bound tokens (a DPoP key generated for this run), PKCE and iss; the embedded provider then requires PAR and DPoP nonces")
	fs.BoolVar(&c.legacyAudience, "legacy-aud", false, "put the token endpoint URL in the assertion's aud, for providers that still demand it (ORY Hydra, Okta, Entra ID; RFC 10070 uses the issuer)")
	fs.BoolVar(&c.skipClientAuthCheck, skipClientAuthCheckFlag[1:], false, "RISK: go on although the provider's discovery does not list private_key_jwt with this key's algorithm; the provider may then refuse every login, or accept assertions under other rules than it advertises. Only for a provider known to misreport its metadata")
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: login [flags]

OpenID Connect login with a private_key_jwt client.

  login                 run the whole flow headlessly against an embedded provider
  login -serve          serve the app for a browser at -addr
  login -issuer URL -client-id ID -key-env JWT_PRIVATE_KEY
                        serve the app against a real provider

flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, cli.FlagError{Err: err}
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q; see -h", fs.Arg(0))
	}
	if c.keyEnv != "" && c.keyFile != "" {
		return nil, errors.New("give -key-env or -key-file, not both")
	}
	if c.fapi2 && c.legacyAudience {
		return nil, errors.New("-fapi2 and -legacy-aud exclude each other: FAPI 2.0 requires the issuer as the assertion's audience")
	}
	if c.keyAlgorithm != "" && c.keyEnv == "" && c.keyFile == "" {
		return nil, errors.New("-alg needs -key-env or -key-file: it names the algorithm of the key given there")
	}
	if err := checkFlagValues(c); err != nil {
		return nil, err
	}
	if c.issuer != "" {
		if c.clientID == "" {
			return nil, errors.New("-issuer needs -client-id: the client ID the provider registered for this app")
		}
		if c.keyEnv == "" && c.keyFile == "" {
			return nil, errors.New("-issuer needs the private key whose public half the provider knows: -key-env NAME or -key-file PATH (make one with go run ./examples/keygen)")
		}
		c.serve = true // a real provider needs a browser
	} else if c.clientID == "" {
		c.clientID = embeddedClientID
	}
	return c, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	key, generated, err := loadKey(c)
	if err != nil {
		return err
	}
	if generated {
		fmt.Fprintf(stderr, "login: no -key-env or -key-file: generated an %s key for this run (kid %s)\n", key.Algorithm(), key.KeyID())
	}
	// The listener comes first: its address is in the redirect URI and the
	// JWKS URL the provider is told about.
	addr := c.addr
	if !c.serve {
		addr = "127.0.0.1:0" // headless: only the JWKS is served, on any free port
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (choose another -addr)", addr, err)
	}
	defer l.Close()
	base := "http://" + l.Addr().String()
	redirectURL := c.redirectURL
	if redirectURL == "" {
		redirectURL = base + "/callback"
	}
	jwksURL := base + "/.well-known/jwks.json"

	// The app's own JWK Set. A Ring, so that a later rotation needs no code
	// change: the provider fetches the set from jwksURL.
	ring, err := jwks.NewRing(jwks.RingConfig{}, jwks.Entry{Key: key, Activate: time.Now()})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /.well-known/jwks.json", jwks.NewHandler(ring, jwks.HandlerConfig{}))

	issuer := c.issuer
	var op *providertest.Server
	var hc *http.Client
	if issuer == "" {
		op, err = startEmbeddedProvider(c, key.Algorithm(), jwksURL, redirectURL, base)
		if err != nil {
			return err
		}
		defer op.Close()
		issuer, hc = op.Issuer(), op.HTTPClient()
		fmt.Fprintf(stdout, "provider:  %s (embedded mock provider)\n", issuer)
	} else {
		fmt.Fprintf(stdout, "provider:  %s\n", issuer)
	}
	fmt.Fprintf(stdout, "client:    %s, signing with %s key %s, public keys at %s\n", c.clientID, key.Algorithm(), key.KeyID(), jwksURL)

	// 1. Discovery, with the pre-flight that the provider accepts
	// private_key_jwt with this key's algorithm.
	log := slog.New(slog.NewTextHandler(stderr, nil))
	p, err := provider.Discover(ctx, issuer, provider.Config{
		HTTPClient:                  hc,
		ClientAuthAlgorithm:         key.Algorithm(),
		InsecureSkipClientAuthCheck: c.skipClientAuthCheck,
		Logger:                      log,
	})
	if err != nil {
		return discoveryError(issuer, err, c, string(key.Algorithm()))
	}
	defer p.Close()
	if c.skipClientAuthCheck {
		fmt.Fprintf(stdout, "1. discovered the authorization, token and JWKS endpoints; %s: a provider that does not list private_key_jwt with %s is only logged\n", skipClientAuthCheckFlag, key.Algorithm())
	} else {
		fmt.Fprintf(stdout, "1. discovered the authorization, token and JWKS endpoints; private_key_jwt with %s is supported\n", key.Algorithm())
	}

	// The HTTP client, clock and logger are the provider's.
	cfg := exchange.Config{
		ClientID:    c.clientID,
		Key:         ring,
		RedirectURL: redirectURL,
		Scopes:      strings.Fields(c.scopes),
	}
	if c.legacyAudience {
		// A provider that demands the token endpoint as the assertion's
		// audience: the assertion settings go into a Minter.
		m, err := assertion.NewMinter(ring, assertion.Config{ClientID: c.clientID, Audience: p.Metadata().TokenEndpoint, Profile: assertion.ProfileLegacy})
		if err != nil {
			return err
		}
		cfg.Key, cfg.Assertions = nil, m
	}
	var proofs *assertion.DPoP
	if c.fapi2 {
		if proofs, err = enableFAPI2(&cfg, stdout); err != nil {
			return err
		}
	}
	client, err := exchange.New(p, cfg)
	if err != nil {
		return err
	}

	if c.serve {
		// The key that seals login transactions into cookies. Replicas of
		// one app share it (from a secret store); this demo makes one per
		// run, so a restart abandons the logins in progress.
		cookieKey := make([]byte, 32)
		rand.Read(cookieKey)
		cookies, err := client.TransactionCookies([][]byte{cookieKey})
		if err != nil {
			return err
		}
		a := &app{
			client:   client,
			sessions: newSessions(time.Now, 8*time.Hour, strings.HasPrefix(redirectURL, "https:")),
			cookies:  cookies,
			base:     base,
			jwksURL:  jwksURL,
			log:      log,
			config:   c,
		}
		a.routes(mux)
		if op == nil {
			fmt.Fprintf(stdout, "logout:    register %s/logged-out as post-logout redirect URI and %s/backchannel-logout as back-channel logout URI\n", base, base)
		}
	}
	// Serving starts now: nothing fetched the JWKS before the first token
	// request.
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	defer func() {
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if !c.serve && c.fapi2 {
		return headlessFAPI2(ctx, op, p, client, proofs, c, stdout)
	}
	if !c.serve {
		return headless(ctx, op, p, client, c, stdout)
	}
	fmt.Fprintf(stdout, "serving the app: open %s/ in a browser (Ctrl-C to stop)\n", base)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		return nil
	}
}

// loadKey reads the client's key from -key-file or -key-env, or generates
// one (reported by generated).
func loadKey(c *config) (key *jwks.Key, generated bool, err error) {
	cfg := jwks.KeyConfig{Algorithm: c.keyAlgorithm}
	switch {
	case c.keyFile != "":
		key, err = jwks.LoadPEMFile(c.keyFile, cfg)
	case c.keyEnv != "":
		key, err = jwks.LoadPEMEnv(c.keyEnv, cfg)
	default:
		alg := jwks.RS256
		if c.fapi2 {
			alg = jwks.ES256 // FAPI 2.0 allows PS256, ES256 and EdDSA only
		}
		key, err = jwks.Generate(alg)
		generated = true
	}
	if err != nil {
		return nil, false, fmt.Errorf("load the client key: %w (make one with go run ./examples/keygen)", err)
	}
	return key, generated, nil
}

// startEmbeddedProvider starts the mock provider with a demo user and
// registers this app as a client that publishes its keys at jwksURL and
// signs its assertions with alg. The provider accepts and advertises alg,
// whichever of the algorithms examples/keygen offers it is, as a real
// provider does once it is configured for the client's key.
//
// The client registers base/logged-out as its post-logout redirect URI and
// base/backchannel-logout as its back-channel logout URI. With -fapi2 the
// provider requires PAR, DPoP and DPoP nonces, and signs ES256 ID tokens.
func startEmbeddedProvider(c *config, alg jwks.Algorithm, jwksURL, redirectURL, base string) (*providertest.Server, error) {
	var fapi providertest.Config
	if c.fapi2 {
		fapi = providertest.Config{RequirePushedAuthorizationRequests: true, DPoPNonceRequired: true, RequireDPoP: true, IDTokenAlgorithm: jwks.ES256}
	}
	op, err := providertest.Start(providertest.Config{
		RequirePushedAuthorizationRequests: fapi.RequirePushedAuthorizationRequests,
		DPoPNonceRequired:                  fapi.DPoPNonceRequired,
		RequireDPoP:                        fapi.RequireDPoP,
		IDTokenAlgorithm:                   fapi.IDTokenAlgorithm,
		ClientAuthAlgorithms:               []jwks.Algorithm{alg},
		User: providertest.User{
			Subject: c.embeddedUserSubject,
			Claims: map[string]any{
				"email":          "jane.doe@example.com",
				"email_verified": true,
				"name":           "Jane Doe",
			},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("start the embedded provider: %w", err)
	}
	err = op.RegisterClient(providertest.Client{
		ID:           c.clientID,
		JWKSURL:      jwksURL,
		RedirectURIs: []string{redirectURL},
		Algorithms:   []jwks.Algorithm{alg},

		PostLogoutRedirectURIs: []string{base + "/logged-out"},
		BackchannelLogoutURI:   base + "/backchannel-logout",
	})
	if err != nil {
		op.Close()
		return nil, fmt.Errorf("register the client at the embedded provider: %w", err)
	}
	return op, nil
}

// headless plays the browser's part against the embedded provider, which
// approves every authorization at once.
func headless(ctx context.Context, op *providertest.Server, p *provider.Provider, client *exchange.Client, c *config, stdout io.Writer) error {
	authURL, tx, err := client.AuthCodeURL(ctx)
	if err != nil {
		return err
	}
	callback, err := op.Authorize(ctx, authURL)
	if err != nil {
		return fmt.Errorf("authorize: %w", err)
	}
	fmt.Fprintln(stdout, "2. authorization request sent with state, nonce and a PKCE S256 challenge; the provider redirected back with a code")
	res, err := client.Callback(ctx, tx, callback.Query())
	if err != nil {
		return fmt.Errorf("callback: %w%s", err, explain(err, c))
	}
	checked := "state"
	if p.Metadata().ISSParameterSupported {
		checked = "state and iss (RFC 9207)"
	}
	fmt.Fprintf(stdout, "3. callback: %s checked; code redeemed with the PKCE verifier and a fresh private_key_jwt assertion\n", checked)
	if a, ok := op.LastAssertion(); ok && a.Accepted {
		fmt.Fprintf(stdout, "   the provider accepted the assertion: typ %v, aud %v, kid %v\n", a.Header["typ"], a.Claims["aud"], a.Header["kid"])
	}
	fmt.Fprintln(stdout, "4. ID token verified: signature, iss, aud, exp, iat, nonce and at_hash")
	u, err := userOf(res.IDToken)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "verified claims:")
	for _, cl := range u.Claims {
		fmt.Fprintf(stdout, "  %-15s %s\n", cl.Name, cl.Value)
	}
	return nil
}

// userOf turns a verified ID token into what the app shows. The nonce and
// at_hash are left out: they served the verification.
func userOf(t *provider.IDToken) (*user, error) {
	var all map[string]json.RawMessage
	if err := t.Claims(&all); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(all))
	for n := range all {
		if n != "nonce" && n != "at_hash" {
			names = append(names, n)
		}
	}
	// sub first, then the rest alphabetically.
	sort.Slice(names, func(i, j int) bool {
		if (names[i] == "sub") != (names[j] == "sub") {
			return names[i] == "sub"
		}
		return names[i] < names[j]
	})
	u := &user{Subject: t.Subject}
	for _, n := range names {
		u.Claims = append(u.Claims, claim{Name: n, Value: claimValue(n, all[n])})
	}
	return u, nil
}

// claimValue renders a claim: strings bare, times with their date, the rest
// as JSON.
func claimValue(name string, raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	switch name {
	case "exp", "iat", "nbf", "auth_time":
		var n int64
		if json.Unmarshal(raw, &n) == nil {
			return fmt.Sprintf("%d (%s)", n, time.Unix(n, 0).UTC().Format(time.RFC3339))
		}
	}
	return string(raw)
}
