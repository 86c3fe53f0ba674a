// Command keygen does in one step what the openssl recipes in provider guides
// do: it generates a signing key and prints
//
//   - a .env line holding the private key as a base64 PEM (JWT_PRIVATE_KEY=…),
//     the form jwks.LoadPEMEnv reads;
//   - the public key as PEM;
//   - the public JWK Set to paste into a provider's dashboard.
//
// Usage:
//
//	go run ./examples/keygen [-alg RS256|PS256|ES256|ES384|ES512|EdDSA] [-bits 2048|3072|4096] [-env JWT_PRIVATE_KEY] [-out key.pem]
//
// With -out the private key is also written as PEM to a new file created with
// mode 0600. The output contains a private key: keep it out of logs.
package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pkjwt/pkjwt/jwks"
)

func main() {
	err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	default:
		fmt.Fprintln(os.Stderr, "keygen:", err)
		os.Exit(1)
	}
}

// run is the whole program; main only maps its error to an exit code.
func run(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	alg := fs.String("alg", "RS256", "signing algorithm: RS256, PS256, ES256, ES384, ES512 or EdDSA")
	bits := fs.Int("bits", 2048, "RSA key size: 2048, 3072 or 4096 (RS256 and PS256 only)")
	env := fs.String("env", "JWT_PRIVATE_KEY", "name of the environment variable in the .env line")
	out := fs.String("out", "", "also write the private key PEM to this new file (mode 0600)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: keygen [flags]\n\nGenerates a signing key and prints a .env line, the public PEM and the public JWKS.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q; see -h", fs.Arg(0))
	}
	a := jwks.Algorithm(*alg)
	var key *jwks.Key
	var err error
	if strings.HasPrefix(*alg, "RS") || strings.HasPrefix(*alg, "PS") {
		key, err = jwks.GenerateRSA(*bits, a)
	} else {
		key, err = jwks.Generate(a)
	}
	if err != nil {
		return fmt.Errorf("%w (try -alg RS256, ES256 or EdDSA)", err)
	}
	priv, err := key.PrivatePEM()
	if err != nil {
		return err
	}
	if *out != "" {
		f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("write private key: %w (choose a new -out path)", err)
		}
		if _, err := f.Write(priv); err != nil {
			f.Close()
			return fmt.Errorf("write private key: %w", err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("write private key: %w", err)
		}
	}
	fmt.Fprintf(stdout, "# Private key (%s, kid %s) for your .env file. Keep it secret.\n", key.Algorithm(), key.KeyID())
	fmt.Fprintf(stdout, "%s=%s\n\n", *env, base64.StdEncoding.EncodeToString(priv))
	fmt.Fprintf(stdout, "# Public key PEM\n%s\n", key.PublicPEM())
	fmt.Fprintf(stdout, "# Public JWK Set, to paste into your provider's dashboard or serve at /.well-known/jwks.json\n%s\n", jwks.NewSet(key).JSON())
	return nil
}
