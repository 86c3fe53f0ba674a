// Command verify-idtoken is the backend check of an ID token that a
// frontend received from a provider such as Immutable Passport: it verifies
// the token's signature against the issuer's JWK Set (fetched through
// discovery and cached for at most an hour), then its issuer, audience and
// times, and prints sub and sid.
//
// Usage:
//
//	go run ./examples/verify-idtoken -issuer https://auth.immutable.com -client-id YOUR_CLIENT_ID ID_TOKEN
//	echo "$ID_TOKEN" | go run ./examples/verify-idtoken -issuer … -client-id …
//
// It runs every ID token check of OpenID Connect Core §3.1.3.7 (signature,
// iss, aud, azp, exp, iat). A backend did not start the login and so never
// knew its nonce: without -nonce the nonce check is skipped, explicitly
// (provider.Expected.InsecureSkipNonceCheck). With -nonce, the nonce the
// login sent must be in the token. With no flags it runs
// a login at an embedded mock provider to get an ID token, verifies it, and
// shows that a copy with an edited payload is refused: decoding a JWT is not
// verifying it.
package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/pkjwt/pkjwt/exchange"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider"
	"github.com/pkjwt/pkjwt/provider/providertest"

	"github.com/pkjwt/pkjwt/internal/cli"
)

func main() {
	os.Exit(cli.ExitCode("verify-idtoken", run(context.Background(), os.Args[1:], os.Stdout, os.Stderr), os.Stderr))
}

// maxTokenInput bounds what is read from stdin.
const maxTokenInput = 64 << 10

// algorithms are the -alg values: the asymmetric algorithms package
// provider verifies (Ed25519 is RFC 9864's name for EdDSA with an Ed25519
// key).
var algorithms = []jwks.Algorithm{
	jwks.RS256, jwks.RS384, jwks.RS512, jwks.PS256, jwks.PS384, jwks.PS512,
	jwks.ES256, jwks.ES384, jwks.ES512, jwks.EdDSA, jwks.Ed25519,
}

// parseAlgorithms reads -alg: a comma-separated list of algorithm names in
// any letter case, each one of algorithms.
func parseAlgorithms(s string) ([]jwks.Algorithm, error) {
	var out []jwks.Algorithm
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		found := false
		for _, a := range algorithms {
			if strings.EqualFold(f, string(a)) {
				out, found = append(out, a), true
				break
			}
		}
		if !found {
			names := make([]string, len(algorithms))
			for i, a := range algorithms {
				names[i] = string(a)
			}
			return nil, fmt.Errorf("-alg %q: %q is not one of %s (comma-separated; ID tokens are usually RS256)", s, f, strings.Join(names, ", "))
		}
	}
	return out, nil
}

// config is the parsed command line.
type config struct {
	issuer, clientID, nonce string
	algs                    []jwks.Algorithm
	token                   string // empty: read stdin
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runWithStdin(ctx, args, os.Stdin, stdout, stderr)
}

// prompter is a stdin that is a terminal, where a prompt helps.
type prompter interface{ Stat() (os.FileInfo, error) }

func isTerminal(r io.Reader) bool {
	f, ok := r.(prompter)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	var algs string
	fs := flag.NewFlagSet("verify-idtoken", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.issuer, "issuer", "", "the issuer URL, exactly as in the token's iss; empty runs the demo against an embedded provider")
	fs.StringVar(&c.clientID, "client-id", "", "your client ID at the issuer: the token's aud must contain it")
	fs.StringVar(&c.nonce, "nonce", "", "the nonce your login sent, when you have it: the token's nonce must then equal it")
	fs.StringVar(&algs, "alg", "RS256", "allowed signature algorithms, comma-separated")
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: verify-idtoken -issuer URL -client-id ID [ID_TOKEN]

Verifies an ID token (the argument, or stdin) against the issuer's JWK Set
and prints sub and sid. With no flags, runs a demo against an embedded
provider.

flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, cli.FlagError{Err: err}
	}
	var err error
	if c.algs, err = parseAlgorithms(algs); err != nil {
		return nil, err
	}
	switch fs.NArg() {
	case 0:
	case 1:
		if fs.Arg(0) != "-" {
			c.token = fs.Arg(0)
		}
	default:
		return nil, errors.New("give one ID token (or none, to read it from stdin); see -h")
	}
	if c.issuer == "" && (c.clientID != "" || c.token != "" || c.nonce != "") {
		return nil, errors.New("give -issuer with the token: the issuer whose keys must have signed it")
	}
	if c.issuer != "" && c.clientID == "" {
		return nil, errors.New("-issuer needs -client-id: a token meant for another client must be refused")
	}
	return c, nil
}

func runWithStdin(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if c.issuer == "" {
		return demo(ctx, c, stdout)
	}
	raw := c.token
	if raw == "" {
		if isTerminal(stdin) {
			fmt.Fprintln(stderr, "verify-idtoken: paste the ID token and press Enter")
		}
		if raw, err = readToken(stdin); err != nil {
			return err
		}
	}
	tok, err := verify(ctx, c, raw, nil)
	if err != nil {
		return err
	}
	printToken(stdout, tok)
	return nil
}

// readToken reads one token from r: its first non-empty line.
func readToken(r io.Reader) (string, error) {
	sc := bufio.NewScanner(io.LimitReader(r, maxTokenInput))
	sc.Buffer(make([]byte, 0, 4096), maxTokenInput)
	for sc.Scan() {
		if s := strings.TrimSpace(sc.Text()); s != "" {
			return s, nil
		}
	}
	if err := sc.Err(); errors.Is(err, bufio.ErrTooLong) {
		return "", fmt.Errorf("the first line on stdin is longer than %d KiB, more than any ID token: give the token alone, as the argument or as one line on stdin", maxTokenInput>>10)
	} else if err != nil {
		return "", fmt.Errorf("read the ID token from stdin: %w", err)
	}
	return "", errors.New("no ID token: give it as the argument or on stdin")
}

// verified is what the check established.
type verified struct {
	Subject, SessionID, Issuer string
	Expiry                     time.Time
}

// verify discovers the issuer and verifies raw. Discovery yields the JWKS
// URL; its keys are cached for at most an hour (the cache refetches sooner on
// an unknown key ID, so the issuer's rotations are picked up).
func verify(ctx context.Context, c *config, raw string, op *providertest.Server) (*verified, error) {
	pc := provider.Config{KeySet: jwks.RemoteConfig{MaxAge: time.Hour}}
	if op != nil {
		pc.HTTPClient = op.HTTPClient()
	}
	p, err := provider.Discover(ctx, c.issuer, pc)
	if err != nil {
		return nil, fmt.Errorf("discover %s: %w (check -issuer: it must be the token's exact iss)", c.issuer, err)
	}
	defer p.Close()

	// The full ID token check of OpenID Connect Core §3.1.3.7. A backend
	// that did not run the login never knew the nonce, so without -nonce it
	// says so explicitly; every other check (signature, iss, aud, azp, exp,
	// iat) still holds.
	v, err := p.IDTokenVerifier(provider.VerifierConfig{ClientID: c.clientID, Algorithms: c.algs})
	if err != nil {
		return nil, err
	}
	exp := provider.Expected{Nonce: c.nonce, InsecureSkipNonceCheck: c.nonce == ""}
	t, err := v.Verify(ctx, raw, exp)
	if err != nil {
		return nil, refused(err)
	}
	return &verified{Subject: t.Subject, SessionID: t.SessionID, Issuer: t.Issuer, Expiry: t.Expiry}, nil
}

// refused adds what to do to a verification failure.
func refused(err error) error {
	switch {
	case errors.Is(err, provider.ErrInvalidSignature):
		return fmt.Errorf("token refused: %w (it was not signed by the issuer's keys, or it was altered)", err)
	case errors.Is(err, provider.ErrTokenExpired):
		return fmt.Errorf("token refused: %w (get a fresh one by logging in again)", err)
	case errors.Is(err, provider.ErrInvalidAudience):
		return fmt.Errorf("token refused: %w (check -client-id)", err)
	case errors.Is(err, provider.ErrInvalidIssuer):
		return fmt.Errorf("token refused: %w (check -issuer)", err)
	}
	return fmt.Errorf("token refused: %w", err)
}

func printToken(w io.Writer, t *verified) {
	fmt.Fprintln(w, "ID token verified")
	fmt.Fprintf(w, "sub: %s\n", t.Subject)
	sid := t.SessionID
	if sid == "" {
		sid = "(none)"
	}
	fmt.Fprintf(w, "sid: %s\n", sid)
	fmt.Fprintf(w, "iss: %s\n", t.Issuer)
	fmt.Fprintf(w, "exp: %s\n", t.Expiry.UTC().Format(time.RFC3339))
}

const demoClientID = "passport-demo-client"

// demo gets an ID token from an embedded provider, verifies it, then edits
// its payload and shows that the edited copy is refused.
func demo(ctx context.Context, c *config, stdout io.Writer) error {
	op, err := providertest.Start(providertest.Config{User: providertest.User{Subject: "email|5f1c8e2a"}})
	if err != nil {
		return err
	}
	defer op.Close()
	raw, err := loginIDToken(ctx, op, demoClientID)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "demo: got an ID token from the embedded provider %s\n", op.Issuer())
	c.issuer, c.clientID = op.Issuer(), demoClientID
	t, err := verify(ctx, c, raw, op)
	if err != nil {
		return err
	}
	printToken(stdout, t)

	forged, err := editSubject(raw, "email|attacker")
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, `demo: the same token with its payload edited to "sub":"email|attacker", signature kept:`)
	if _, err := verify(ctx, c, forged, op); err == nil {
		return errors.New("the edited token was accepted")
	} else {
		fmt.Fprintf(stdout, "refused: %v\n", err)
	}
	fmt.Fprintln(stdout, "Decoding a JWT is not verifying it: read claims only from a token whose signature was checked.")
	return nil
}

// editSubject returns raw with its payload's sub replaced and the original
// signature kept, as an attacker would forge it.
func editSubject(raw, sub string) (string, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return "", errors.New("not a compact JWS")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", err
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		return "", err
	}
	claims["sub"] = sub
	edited, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	parts[1] = base64.RawURLEncoding.EncodeToString(edited)
	return strings.Join(parts, "."), nil
}

// loginIDToken runs an authorization code login at op as the client
// clientID (registered here with a fresh key) and returns the raw ID token.
func loginIDToken(ctx context.Context, op *providertest.Server, clientID string) (string, error) {
	key, err := jwks.Generate(jwks.ES256)
	if err != nil {
		return "", err
	}
	const redirect = "http://127.0.0.1/callback"
	if err := op.RegisterClient(providertest.Client{ID: clientID, JWKSJSON: jwks.NewSet(key).JSON(), RedirectURIs: []string{redirect}}); err != nil {
		return "", err
	}
	p, err := provider.Discover(ctx, op.Issuer(), provider.Config{HTTPClient: op.HTTPClient()})
	if err != nil {
		return "", err
	}
	defer p.Close()
	client, err := exchange.New(p, exchange.Config{ClientID: clientID, Key: key, RedirectURL: redirect})
	if err != nil {
		return "", err
	}
	authURL, tx, err := client.AuthCodeURL(ctx)
	if err != nil {
		return "", err
	}
	cb, err := op.Authorize(ctx, authURL)
	if err != nil {
		return "", err
	}
	res, err := client.Callback(ctx, tx, cb.Query())
	if err != nil {
		return "", err
	}
	raw, _ := res.Token.Extra("id_token").(string)
	return raw, nil
}
