// Command service-auth shows one microservice calling another with a JWT,
// as SuperTokens describes it: service M1 mints a short-lived token carrying
// "source":"microservice", renews it before it expires, and sends it as
// Authorization: Bearer; service M2 verifies it against M1's published JWK
// Set and demands the claim, so an end-user token signed by the same key but
// without the claim is refused with 401.
//
// Usage:
//
//	go run ./examples/service-auth [-lifetime 5m] [-renew-before 1m] [-key-env NAME | -key-file PATH]
//
// Both services run in this process on loopback ports. Time is simulated so
// that the renewal shows without waiting: M1, M2 and the printout share one
// clock that the program moves forward between calls.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/pkjwt/pkjwt/assertion"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider"

	"github.com/pkjwt/pkjwt/internal/cli"
)

func main() {
	os.Exit(cli.ExitCode("service-auth", run(context.Background(), os.Args[1:], os.Stdout, os.Stderr), os.Stderr))
}

const (
	m2Audience  = "m2"     // the aud M2 demands
	sourceClaim = "source" // the claim that marks a service token
	sourceValue = "microservice"
)

// config is the parsed command line.
type config struct {
	lifetime, renewBefore time.Duration
	keyEnv, keyFile       string
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("service-auth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&c.lifetime, "lifetime", 5*time.Minute, "lifetime of M1's service token (at most 1h)")
	fs.DurationVar(&c.renewBefore, "renew-before", time.Minute, "M1 mints a new token this long before the current one expires")
	fs.StringVar(&c.keyEnv, "key-env", "", "environment variable holding M1's private key as base64 PEM; empty generates one")
	fs.StringVar(&c.keyFile, "key-file", "", "file holding M1's private key as PEM")
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: service-auth [flags]

Service M1 calls service M2 with a JWT carrying "source":"microservice";
M2 verifies it against M1's JWK Set and refuses tokens without the claim.

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
	switch {
	case c.lifetime < time.Minute || c.lifetime > time.Hour:
		return nil, fmt.Errorf("-lifetime %v: use 1m to 1h", c.lifetime)
	case c.renewBefore <= 0 || c.renewBefore >= c.lifetime:
		return nil, fmt.Errorf("-renew-before %v: use a positive duration shorter than -lifetime %v", c.renewBefore, c.lifetime)
	case c.keyEnv != "" && c.keyFile != "":
		return nil, errors.New("give -key-env or -key-file, not both")
	}
	return c, nil
}

// simClock is the shared simulated clock.
type simClock struct {
	// guards t
	mu sync.Mutex
	t  time.Time
}

func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *simClock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	key, err := loadKey(c, stderr)
	if err != nil {
		return err
	}
	start := time.Now().Truncate(time.Second)
	clock := &simClock{t: start}

	// M1 publishes its keys; its issuer is its own URL.
	ring, err := jwks.NewRing(jwks.RingConfig{Now: clock.Now}, jwks.Entry{Key: key, Activate: start})
	if err != nil {
		return err
	}
	m1Mux := http.NewServeMux()
	m1Mux.Handle("GET /.well-known/jwks.json", jwks.NewHandler(ring, jwks.HandlerConfig{}))
	m1, err := listen(m1Mux)
	if err != nil {
		return err
	}
	defer m1.close()

	// M2 trusts M1's issuer, fetches M1's set, and demands the claim.
	m1Keys, err := jwks.NewRemote(m1.url+"/.well-known/jwks.json", jwks.RemoteConfig{Now: clock.Now})
	if err != nil {
		return err
	}
	defer m1Keys.Close()
	verifier, err := provider.NewJWTVerifier(m1Keys, provider.JWTConfig{
		Issuer:         m1.url,
		Audience:       m2Audience,
		Algorithms:     []jwks.Algorithm{key.Algorithm()},
		RequiredClaims: map[string]string{sourceClaim: sourceValue},
		Now:            clock.Now,
	})
	if err != nil {
		return err
	}
	m2, err := listen(provider.Middleware(verifier, provider.MiddlewareConfig{Realm: "m2"})(http.HandlerFunc(orders)))
	if err != nil {
		return err
	}
	defer m2.close()
	fmt.Fprintf(stdout, "M1 (caller) %s publishes its keys at /.well-known/jwks.json\n", m1.url)
	fmt.Fprintf(stdout, "M2 (callee) %s accepts tokens of issuer M1 with aud %q and %q:%q\n", m2.url, m2Audience, sourceClaim, sourceValue)

	minter, err := assertion.NewTokenMinter(ring, assertion.TokenConfig{
		Issuer:   m1.url,
		Subject:  "m1",
		Audience: []string{m2Audience},
		Lifetime: c.lifetime,
		Now:      clock.Now,
	})
	if err != nil {
		return err
	}
	ts := &serviceToken{minter: minter, now: clock.Now, lifetime: c.lifetime, renewBefore: c.renewBefore, claims: map[string]any{sourceClaim: sourceValue}}
	// M1 mints its token when it starts.
	first, err := ts.token(ctx)
	if err != nil {
		return err
	}
	at := func() string { return "t+" + clock.Now().Sub(start).String() }
	fmt.Fprintf(stdout, "%-9s M1 minted service token #%d, valid %v\n", at(), ts.mints(), c.lifetime)

	m1Client := &http.Client{Transport: &bearerTransport{token: ts.token, base: http.DefaultTransport}, Timeout: 10 * time.Second}
	// Call at once, halfway to the renewal point (the token is reused), and
	// inside the renewal window (a new token is minted first).
	renewAt := c.lifetime - c.renewBefore
	steps := []time.Duration{0, renewAt / 2, renewAt + c.renewBefore/2}
	for i, offset := range steps {
		clock.set(start.Add(offset))
		before := ts.mints()
		status, body, err := get(ctx, m1Client, m2.url+"/orders", "")
		if err != nil {
			return err
		}
		note := fmt.Sprintf("token #%d", ts.mints())
		if ts.mints() != before {
			note += fmt.Sprintf(" (renewed: #%d expires within %v)", before, c.renewBefore)
		}
		fmt.Fprintf(stdout, "%-9s M1 → M2 call %d with %s: %d %s\n", at(), i+1, note, status, body)
		if status != http.StatusOK {
			return fmt.Errorf("M2 refused M1's token: %d %s", status, body)
		}
	}

	// An end-user token: same key and issuer, no "source" claim.
	userToken, err := minter.Mint(ctx, nil, assertion.WithSubject("user-123"))
	if err != nil {
		return err
	}
	plain := &http.Client{Timeout: 10 * time.Second}
	status, body, err := get(ctx, plain, m2.url+"/orders", userToken)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%-9s end-user token (sub user-123, no %q claim) → M2: %d %s\n", at(), sourceClaim, status, body)
	if status != http.StatusUnauthorized {
		return fmt.Errorf("M2 accepted an end-user token: %d", status)
	}
	status, body, err = get(ctx, plain, m2.url+"/orders", "")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%-9s no token → M2: %d %s\n", at(), status, body)

	// Token #1, replayed after its expiry (and M2's one minute of leeway).
	clock.set(start.Add(c.lifetime + 2*time.Minute))
	status, body, err = get(ctx, plain, m2.url+"/orders", first)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%-9s expired token #1 → M2: %d %s\n", at(), status, body)
	if status != http.StatusUnauthorized {
		return fmt.Errorf("M2 accepted an expired token: %d", status)
	}
	return nil
}

// orders is M2's endpoint; the middleware has verified the token.
func orders(w http.ResponseWriter, r *http.Request) {
	t, _ := provider.FromContext(r.Context())
	fmt.Fprintf(w, "hello %s, here are your orders", t.Subject)
}

// serviceToken is M1's token: minted at start and again when the current
// one is within renewBefore of its expiry. It is safe for concurrent use.
type serviceToken struct {
	minter      *assertion.TokenMinter
	now         func() time.Time
	lifetime    time.Duration // the minter's
	renewBefore time.Duration
	claims      map[string]any

	// guards raw, expiry, n
	mu     sync.Mutex
	raw    string
	expiry time.Time
	n      int
}

func (s *serviceToken) token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.raw != "" && s.now().Before(s.expiry.Add(-s.renewBefore)) {
		return s.raw, nil
	}
	raw, err := s.minter.Mint(ctx, s.claims)
	if err != nil {
		return "", err
	}
	s.raw, s.expiry = raw, s.now().Add(s.lifetime)
	s.n++
	return raw, nil
}

func (s *serviceToken) mints() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// bearerTransport adds M1's current token to every request.
type bearerTransport struct {
	token func(context.Context) (string, error)
	base  http.RoundTripper
}

func (t *bearerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := t.token(req.Context())
	if err != nil {
		return nil, err
	}
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+tok)
	return t.base.RoundTrip(req)
}

// get sends a GET (with token as Bearer when non-empty) and returns the
// status and the first line of the body, with the WWW-Authenticate
// challenge of a 401.
func get(ctx context.Context, hc *http.Client, url, token string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	body := strings.TrimSpace(string(b))
	if ch := resp.Header.Get("WWW-Authenticate"); ch != "" {
		body += " (WWW-Authenticate: " + ch + ")"
	}
	return resp.StatusCode, body, nil
}

// server is one service on a loopback port.
type server struct {
	url string
	srv *http.Server
	l   net.Listener
}

func listen(h http.Handler) (*server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &server{url: "http://" + l.Addr().String(), srv: &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}, l: l}
	go s.srv.Serve(l)
	return s, nil
}

func (s *server) close() { s.srv.Close() }

// loadKey reads M1's key, or generates one.
func loadKey(c *config, stderr io.Writer) (*jwks.Key, error) {
	var key *jwks.Key
	var err error
	switch {
	case c.keyFile != "":
		key, err = jwks.LoadPEMFile(c.keyFile, jwks.KeyConfig{})
	case c.keyEnv != "":
		key, err = jwks.LoadPEMEnv(c.keyEnv, jwks.KeyConfig{})
	default:
		key, err = jwks.Generate(jwks.RS256)
		if err == nil {
			fmt.Fprintf(stderr, "service-auth: generated an RS256 key for M1 (kid %s); use -key-env or -key-file for a lasting one\n", key.KeyID())
		}
	}
	if err != nil {
		return nil, fmt.Errorf("load M1's key: %w (make one with go run ./examples/keygen)", err)
	}
	return key, nil
}
