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
	"strings"
	"time"

	"github.com/pkjwt/pkjwt/assertion"
	"github.com/pkjwt/pkjwt/exchange"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider"
	"github.com/pkjwt/pkjwt/provider/providertest"
)

func main() {
	err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	default:
		fmt.Fprintln(os.Stderr, "trusted-token:", err)
		os.Exit(1)
	}
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
		return nil, err
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
	if err != nil {
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
	var roles []string
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
		return fmt.Errorf("exchange the trusted token: %w (%s)", err, hint(err))
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

// hint says what to do about a refused exchange.
func hint(err error) string {
	switch {
	case errors.Is(err, exchange.ErrInvalidClient):
		return "the provider refused the client assertion: check -client-id and that it knows your public key; try -legacy-aud"
	case errors.Is(err, exchange.ErrInvalidGrant):
		return "the provider refused the trusted token: check -token-iss and -token-aud against what it expects, and use a new -token-id for every token"
	case errors.Is(err, exchange.ErrUnauthorizedClient):
		return "enable the JWT bearer grant (urn:ietf:params:oauth:grant-type:jwt-bearer) for this client at the provider"
	}
	return "check the provider's logs"
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
