// Command trusted-token mints a trusted auth token, as Stytch calls it: a
// five-minute JWT in which your app vouches for a user (email, a token ID as
// jti, role assignments, iss and aud), and exchanges it at the provider for a
// session token with the JWT bearer grant (RFC 7523 §2.1). The request also
// carries a fresh private_key_jwt client assertion, so it holds two JWTs,
// both signed by your key.
//
// Usage:
//
//	go run ./examples/trusted-token [-email jane@example.com] [-roles admin,editor]
//	JWT_PRIVATE_KEY=… go run ./examples/trusted-token -issuer https://op.example -client-id my-app -key-env JWT_PRIVATE_KEY
//
// With no -issuer it runs against an embedded mock provider. It prints the
// session token's type and expiry and a redacted form of it: the token is a
// credential.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/pkjwt/pkjwt/assertion"
	"github.com/pkjwt/pkjwt/exchange"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider"
	"github.com/pkjwt/pkjwt/provider/providertest"

	"github.com/pkjwt/pkjwt/internal/cli"
)

func main() {
	os.Exit(cli.ExitCode("trusted-token", run(context.Background(), os.Args[1:], os.Stdout, os.Stderr), os.Stderr))
}

// trustedTokenLifetime is how long the minted token is valid.
const trustedTokenLifetime = 5 * time.Minute

const embeddedClientID = "trusted-token-example"

// config is the parsed command line.
type config struct {
	issuer, clientID      string
	keyEnv, keyFile       string
	email, subject, roles string
	tokenID, tokenIssuer  string
	tokenAudience, scopes string
	legacyAudience        bool
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("trusted-token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.issuer, "issuer", "", "issuer URL of the provider; empty starts an embedded mock provider")
	fs.StringVar(&c.clientID, "client-id", "", "client ID registered at the provider (required with -issuer)")
	fs.StringVar(&c.keyEnv, "key-env", "", "environment variable holding the private key as base64 PEM (such as JWT_PRIVATE_KEY)")
	fs.StringVar(&c.keyFile, "key-file", "", "file holding the private key as PEM")
	fs.StringVar(&c.email, "email", "jane.doe@example.com", "the user's email: the token's email claim")
	fs.StringVar(&c.subject, "sub", "", "the user's ID at your app: the token's sub; empty uses -email")
	fs.StringVar(&c.roles, "roles", "editor,billing-admin", "the user's role assignments, comma-separated: the token's roles claim")
	fs.StringVar(&c.tokenID, "token-id", "", "the token's ID (jti), unique per token; empty makes a random one")
	fs.StringVar(&c.tokenIssuer, "token-iss", "", "the token's iss; empty uses the client ID (RFC 7523 §3)")
	fs.StringVar(&c.tokenAudience, "token-aud", "", "the token's aud; empty uses the provider's issuer")
	fs.StringVar(&c.scopes, "scopes", "", "scopes requested for the session token, space-separated")
	fs.BoolVar(&c.legacyAudience, "legacy-aud", false, "put the token endpoint URL in the client assertion's aud, for providers that still demand it")
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: trusted-token [flags]

Mints a 5-minute trusted auth token (email, jti, roles, iss, aud) and
exchanges it at the provider with the JWT bearer grant for a session token.

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
	case c.keyEnv != "" && c.keyFile != "":
		return nil, errors.New("give -key-env or -key-file, not both")
	case c.issuer != "" && c.clientID == "":
		return nil, errors.New("-issuer needs -client-id: the client ID the provider registered for this app")
	case c.issuer != "" && c.keyEnv == "" && c.keyFile == "":
		return nil, errors.New("-issuer needs the private key whose public half the provider knows: -key-env NAME or -key-file PATH")
	case c.email == "":
		return nil, errors.New("-email is empty")
	}
	// The token's values, checked here in the flags' terms.
	var errs []error
	for _, f := range []struct{ name, value string }{
		{"-client-id", c.clientID}, {"-email", c.email}, {"-sub", c.subject},
		{"-token-id", c.tokenID}, {"-token-iss", c.tokenIssuer}, {"-token-aud", c.tokenAudience},
	} {
		if err := checkValue(f.name, f.value); err != nil {
			errs = append(errs, err)
		}
	}
	for _, sc := range strings.Fields(c.scopes) {
		if !scopeToken.MatchString(sc) {
			errs = append(errs, fmt.Errorf("-scopes: %q is not a scope: printable ASCII without \" or \\ (RFC 6749 §3.3), separated by spaces", sc))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if c.clientID == "" {
		c.clientID = embeddedClientID
	}
	if c.subject == "" {
		c.subject = c.email
	}
	if c.tokenIssuer == "" {
		c.tokenIssuer = c.clientID
	}
	if c.tokenID == "" {
		c.tokenID = "tt-" + rand.Text()
	}
	return c, nil
}

// scopeToken is an RFC 6749 §3.3 scope-token.
var scopeToken = regexp.MustCompile(`^[\x21\x23-\x5B\x5D-\x7E]+$`)

// checkValue refuses a value with white space around it or a control
// character in it, naming the flag. Empty values are the flags' defaults.
func checkValue(name, value string) error {
	switch {
	case strings.TrimSpace(value) != value:
		return fmt.Errorf("%s %q starts or ends with white space: give it without", name, value)
	case strings.ContainsFunc(value, unicode.IsControl):
		return fmt.Errorf("%s %q holds a control character", name, value)
	}
	return nil
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
	issuer := c.issuer
	var pc provider.Config
	if issuer == "" {
		op, err := providertest.Start(providertest.Config{})
		if err != nil {
			return err
		}
		defer op.Close()
		err = op.RegisterClient(providertest.Client{
			ID:         c.clientID,
			JWKSJSON:   jwks.NewSet(key).JSON(),
			GrantTypes: []string{providertest.GrantJWTBearer},
		})
		if err != nil {
			return err
		}
		issuer, pc.HTTPClient = op.Issuer(), op.HTTPClient()
		fmt.Fprintf(stdout, "provider:      %s (embedded mock provider)\n", issuer)
	} else {
		fmt.Fprintf(stdout, "provider:      %s\n", issuer)
	}
	pc.ClientAuthAlgorithm = key.Algorithm()
	p, err := provider.Discover(ctx, issuer, pc)
	if errors.Is(err, provider.ErrPrivateKeyJWTUnsupported) {
		return fmt.Errorf("discover %s: %w (register the client for private_key_jwt, or use a key of an algorithm the provider lists: go run ./examples/keygen -alg ALG)", issuer, err)
	} else if err != nil {
		return fmt.Errorf("discover %s: %w (check -issuer)", issuer, err)
	}
	defer p.Close()
	// The HTTP client, clock and logger are the provider's.
	cfg := exchange.Config{ClientID: c.clientID, Key: key}
	if c.legacyAudience {
		// A provider that demands the token endpoint as the assertion's
		// audience: the assertion settings go into a Minter.
		m, err := assertion.NewMinter(key, assertion.Config{ClientID: c.clientID, Audience: p.Metadata().TokenEndpoint, Profile: assertion.ProfileLegacy})
		if err != nil {
			return err
		}
		cfg.Key, cfg.Assertions = nil, m
	}
	client, err := exchange.New(p, cfg)
	if err != nil {
		return err
	}

	// The trusted auth token.
	aud := c.tokenAudience
	if aud == "" {
		aud = p.Issuer()
	}
	minter, err := assertion.NewTokenMinter(key, assertion.TokenConfig{
		Issuer:   c.tokenIssuer,
		Audience: []string{aud},
		Lifetime: trustedTokenLifetime,
	})
	if err != nil {
		return err
	}
	roles := []string{} // -roles '' is an empty list, not null
	for _, r := range strings.Split(c.roles, ",") {
		if r = strings.TrimSpace(r); r != "" {
			roles = append(roles, r)
		}
	}
	claims := struct {
		Email string   `json:"email"`
		Roles []string `json:"roles"`
	}{Email: c.email, Roles: roles}
	grant, err := minter.Mint(ctx, claims, assertion.WithSubject(c.subject), assertion.WithJTI(c.tokenID))
	if err != nil {
		return err
	}
	// The claims of the token just minted (decoded from our own token; the
	// token itself is a credential and is not shown).
	_, payload, _ := strings.Cut(grant, ".")
	payload, _, _ = strings.Cut(payload, ".")
	decoded, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "trusted token: %s (%d bytes, not shown)\n", decoded, len(grant))

	var opts []exchange.Option
	if c.scopes != "" {
		opts = append(opts, exchange.WithScopes(strings.Fields(c.scopes)...))
	}
	tok, err := client.JWTBearer(ctx, grant, opts...)
	if err != nil {
		if h := hint(err, c); h != "" {
			return fmt.Errorf("exchange the trusted token: %w (%s)", err, h)
		}
		return fmt.Errorf("exchange the trusted token: %w", err)
	}
	fmt.Fprintf(stdout, "session token: type %s, expires %s (in %v), value %s\n",
		tok.Type(), tok.Expiry.UTC().Format(time.RFC3339), time.Until(tok.Expiry).Round(time.Second), redact(tok.AccessToken))
	if tok.RefreshToken != "" {
		fmt.Fprintf(stdout, "refresh token: %s\n", redact(tok.RefreshToken))
	}
	return nil
}

// redact shows a token's shape, never the token: a credential printed to a
// terminal ends up in scrollback, screen shares and CI logs.
func redact(tok string) string {
	kind := "opaque"
	if strings.Count(tok, ".") == 2 && strings.HasPrefix(tok, "eyJ") {
		kind = "JWT"
	}
	return fmt.Sprintf("[redacted %s, %d characters]", kind, len(tok))
}

// hint says what to do about a refused exchange, or "" when the error says
// all that is known.
func hint(err error, c *config) string {
	switch {
	case errors.Is(err, exchange.ErrInvalidClient):
		aud := "try -legacy-aud if the provider wants its token endpoint as the client assertion's aud"
		if c.legacyAudience {
			aud = "drop -legacy-aud if the provider wants its issuer as the client assertion's aud"
		}
		return "the provider refused the client assertion: check -client-id and that it knows your public key; " + aud
	case errors.Is(err, exchange.ErrInvalidGrant):
		return "the provider refused the trusted token (or, at some providers, the client assertion): check -token-iss and -token-aud against what it expects, and use a new -token-id for every token"
	case errors.Is(err, exchange.ErrUnauthorizedClient):
		return "enable the JWT bearer grant (urn:ietf:params:oauth:grant-type:jwt-bearer) for this client at the provider"
	case errors.Is(err, exchange.ErrInvalidScope):
		return "the provider refused a scope of -scopes: ask for scopes this client may request"
	case errors.Is(err, exchange.ErrServerError):
		return "the provider failed or is overloaded; try again later"
	}
	return ""
}

// loadKey reads the key from -key-file or -key-env, or generates one.
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
			fmt.Fprintf(stderr, "trusted-token: generated an RS256 key for this run (kid %s)\n", key.KeyID())
		}
	}
	if err != nil {
		return nil, fmt.Errorf("load the signing key: %w (make one with go run ./examples/keygen)", err)
	}
	return key, nil
}
