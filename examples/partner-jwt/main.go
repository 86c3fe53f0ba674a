// Command partner-jwt mints the short-lived JWT a partner such as Crossmint
// accepts in place of its own login ("bring your own auth"): RS256, iss = your
// project id, sub = your user's id, aud = "crossmint.com", expiring in 10
// minutes. The partner verifies it with the public key you publish at
// /.well-known/jwks.json.
//
// Usage:
//
//	JWT_PRIVATE_KEY=$(…) go run ./examples/partner-jwt [-project ID] [-user ID] [-serve] [-rotate]
//
// The key is the base64 PEM in JWT_PRIVATE_KEY (make one with
// go run ./examples/keygen), or a PEM file with -key-file. With neither (the
// variable unset), the program generates a throwaway key and says so; a
// variable set but empty is refused. It prints the token's header
// and claims, not the token itself (it is a bearer credential for your user):
// -print-token prints it alone on a line. -serve then serves the public key
// set at -addr until interrupted. -rotate shows a rotation on a simulated
// clock: the new key signs at once and the old one stays published for a day,
// so tokens it signed still verify until they expire.
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"
	"unicode"

	"github.com/pkjwt/pkjwt/assertion"
	"github.com/pkjwt/pkjwt/jwks"

	"github.com/pkjwt/pkjwt/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	code := cli.ExitCode("partner-jwt", run(ctx, os.Args[1:], os.Stdout, os.Stderr), os.Stderr)
	stop()
	os.Exit(code)
}

// config is the parsed command line.
type config struct {
	project, user, audience string
	keyEnv, keyFile         string
	lifetime                time.Duration
	printToken, serve       bool
	rotate                  bool
	addr                    string
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("partner-jwt", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.project, "project", "demo-project", "your project id at the partner: the token's iss")
	fs.StringVar(&c.user, "user", "user-42", "the id of the user the token speaks for: the token's sub")
	fs.StringVar(&c.audience, "audience", "crossmint.com", "the partner: the token's aud")
	fs.StringVar(&c.keyEnv, "key-env", "JWT_PRIVATE_KEY", "environment variable holding the RSA private key as base64 PEM")
	fs.StringVar(&c.keyFile, "key-file", "", "read the RSA private key from this PEM file instead")
	fs.DurationVar(&c.lifetime, "lifetime", 10*time.Minute, "how long the token is valid")
	fs.BoolVar(&c.printToken, "print-token", false, "print the token itself on stdout (it is a bearer credential: keep it out of logs)")
	fs.BoolVar(&c.serve, "serve", false, "then serve the public key set at http://ADDR/.well-known/jwks.json until interrupted")
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8081", "address for -serve")
	fs.BoolVar(&c.rotate, "rotate", false, "demonstrate a key rotation with a day of grace, on a simulated clock")
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: partner-jwt [flags]

Mints a Crossmint-style partner JWT (RS256, iss=project, sub=user,
aud=crossmint.com, 10 minutes) with the key in $JWT_PRIVATE_KEY, and
optionally serves the public key set. Make a key with:
  go run ./examples/keygen

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
	// Every flag is checked here, in the flags' terms, before a key is
	// loaded or generated.
	var errs []error
	if c.lifetime < time.Second || c.lifetime > time.Hour {
		errs = append(errs, fmt.Errorf("-lifetime %v: use 1s to 1h, such as 10m (Crossmint wants short-lived tokens)", c.lifetime))
	}
	for _, f := range []struct{ name, value, what string }{
		{"-project", c.project, "your project id at the partner"},
		{"-user", c.user, "the id of the user the token speaks for"},
		{"-audience", c.audience, "the partner, such as crossmint.com"},
	} {
		if err := checkValue(f.name, f.value, f.what); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
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
	if c.rotate {
		return demoRotation(ctx, c, key, stdout)
	}

	// A Ring holding one key: the same type serves rotation later on.
	ring, err := jwks.NewRing(jwks.RingConfig{}, jwks.Entry{Key: key, Activate: time.Now()})
	if err != nil {
		return err
	}
	minter, err := newMinter(c, ring, nil)
	if err != nil {
		return err
	}
	token, err := minter.Mint(ctx, nil, assertion.WithSubject(c.user))
	if err != nil {
		return err
	}
	describe(stdout, token)
	if c.printToken {
		fmt.Fprintln(stdout, token)
	} else {
		fmt.Fprintf(stdout, "token:  %s… (%d bytes; -print-token prints it)\n", token[:12], len(token))
	}
	if !c.serve {
		fmt.Fprintf(stdout, "Publish the public key set at https://<your app>/.well-known/jwks.json (try -serve) and register that URL with %s.\n", c.audience)
		return nil
	}
	return serve(ctx, c.addr, jwks.NewHandler(ring, jwks.HandlerConfig{}), stdout)
}

// checkValue refuses an empty claim value, or one with white space around it
// or a control character in it, naming the flag.
func checkValue(name, value, what string) error {
	switch {
	case value == "":
		return fmt.Errorf("%s is empty: give %s", name, what)
	case strings.TrimSpace(value) != value:
		return fmt.Errorf("%s %q starts or ends with white space: give %s without it", name, value, what)
	case strings.ContainsFunc(value, unicode.IsControl):
		return fmt.Errorf("%s %q holds a control character", name, value)
	}
	return nil
}

// loadKey reads the signing key from -key-file or the -key-env variable; with
// neither (the variable unset) it generates a throwaway key and says so on
// stderr. A variable that is set but empty is a mistake (a .env line without
// its value), not a request for a throwaway key.
func loadKey(c *config, stderr io.Writer) (*jwks.Key, error) {
	cfg := jwks.KeyConfig{Algorithm: jwks.RS256}
	var key *jwks.Key
	var err error
	v, set := os.LookupEnv(c.keyEnv)
	switch {
	case c.keyFile != "":
		key, err = jwks.LoadPEMFile(c.keyFile, cfg)
	case set && strings.TrimSpace(v) == "":
		return nil, fmt.Errorf("%s is set but empty: put the key there (go run ./examples/keygen prints the line), or unset it for a throwaway key", c.keyEnv)
	case set:
		key, err = jwks.LoadPEMEnv(c.keyEnv, cfg)
	default:
		key, err = jwks.Generate(jwks.RS256)
		if err == nil {
			fmt.Fprintf(stderr, "partner-jwt: %s is not set: generated a throwaway RS256 key (kid %s). For a lasting key run: go run ./examples/keygen\n", c.keyEnv, key.KeyID())
		}
	}
	if err != nil {
		return nil, fmt.Errorf("load the signing key: %w (the partner expects RS256: make an RSA key with go run ./examples/keygen)", err)
	}
	return key, nil
}

// newMinter returns the minter of partner tokens: iss, aud and the lifetime
// are fixed, sub varies per call.
func newMinter(c *config, keys jwks.KeySource, now func() time.Time) (*assertion.TokenMinter, error) {
	return assertion.NewTokenMinter(keys, assertion.TokenConfig{
		Issuer:   c.project,
		Audience: []string{c.audience},
		Lifetime: c.lifetime,
		Now:      now,
	})
}

// describe prints the token's header and claims. It decodes a token this
// program just signed; never trust decoded claims of a token you received
// without verifying its signature.
func describe(w io.Writer, token string) {
	parts := strings.Split(token, ".")
	for i, name := range []string{"header", "claims"} {
		if i >= len(parts) {
			return
		}
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			return
		}
		fmt.Fprintf(w, "%s: %s\n", name, b)
	}
}

// serve serves h at addr until ctx is done.
func serve(ctx context.Context, addr string, h http.Handler, stdout io.Writer) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (choose another -addr)", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /.well-known/jwks.json", h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	fmt.Fprintf(stdout, "serving the public key set at http://%s/.well-known/jwks.json (Ctrl-C to stop)\n", l.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	<-errc
	return nil
}

// demoRotation rotates from key to a new key on a simulated clock and shows
// which key signs, what the published set holds, and whether a token signed
// by the old key before the rotation still verifies against it.
func demoRotation(ctx context.Context, c *config, key *jwks.Key, stdout io.Writer) error {
	now := time.Now().Truncate(time.Second)
	clock := func() time.Time { return now }
	const (
		lead  = time.Hour      // the new key is published this long before it signs
		grace = 24 * time.Hour // the old key stays published this long after it stops signing
	)
	ring, err := jwks.NewRing(jwks.RingConfig{Lead: lead, Grace: grace, Now: clock}, jwks.Entry{Key: key, Activate: now})
	if err != nil {
		return err
	}
	minter, err := newMinter(c, ring, clock)
	if err != nil {
		return err
	}
	old, err := minter.Mint(ctx, nil, assertion.WithSubject(c.user))
	if err != nil {
		return err
	}
	show := func(when string) error {
		signing, err := ring.SigningKey()
		if err != nil {
			return err
		}
		set := ring.PublicSet()
		var published []string
		for _, kid := range set.KeyIDs() {
			published = append(published, short(kid))
		}
		fmt.Fprintf(stdout, "%-26s signing %s; published %v; old token's signature verifies: %v\n",
			when, short(signing.KeyID()), published, verifies(ctx, set, old))
		return nil
	}
	fmt.Fprintf(stdout, "key rotation on a simulated clock: lead %v, grace %v (key IDs shortened to 8 characters)\n", lead, grace)
	steps := []struct {
		when    string
		advance time.Duration
		rotate  bool
	}{
		{when: "before rotation"},
		{when: "rotate", rotate: true},
		{when: "+1h: new key signs", advance: lead},
		{when: "+1d0h59m: still published", advance: grace - time.Minute},
		{when: "+1d1h01m: old key gone", advance: 2 * time.Minute},
	}
	for _, st := range steps {
		now = now.Add(st.advance)
		if st.rotate {
			next, err := jwks.Generate(jwks.RS256)
			if err != nil {
				return err
			}
			if err := ring.Rotate(next); err != nil {
				return err
			}
		}
		if err := show(st.when); err != nil {
			return err
		}
	}
	fmt.Fprintln(stdout, "Tokens live 10 minutes, so a day of grace covers every token the old key signed, and every cached copy of the set.")
	return nil
}

// short returns the first 8 characters of a key ID, enough to tell keys apart.
func short(kid string) string {
	if len(kid) > 8 {
		return kid[:8]
	}
	return kid
}

// verifies reports whether token's signature verifies with the published
// set, the way a partner checks it: a jwks.Remote reading the set (served
// here from memory instead of fetched from /.well-known/jwks.json). Only the
// signature is checked, since the point is which keys are published; a
// partner also checks the claims (package provider's JWTVerifier does both).
func verifies(ctx context.Context, set *jwks.Set, token string) bool {
	serve := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		return &http.Response{
			StatusCode: http.StatusOK,
			Header:     http.Header{"Content-Type": {"application/jwk-set+json"}},
			Body:       io.NopCloser(bytes.NewReader(set.JSON())),
			Request:    req,
		}, nil
	})
	remote, err := jwks.NewRemote("https://partner.example/.well-known/jwks.json", jwks.RemoteConfig{HTTPClient: &http.Client{Transport: serve}})
	if err != nil {
		return false
	}
	defer remote.Close()
	_, err = remote.VerifySignature(ctx, token)
	return err == nil
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
