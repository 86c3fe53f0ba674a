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
//	go run ./examples/keygen [-alg RS256|RS384|RS512|PS256|PS384|PS512|ES256|ES384|ES512|EdDSA] [-bits 2048|3072|4096] [-env JWT_PRIVATE_KEY] [-out key.pem]
//
// -alg is matched without regard to case (rs256 is RS256). -bits applies to
// the RSA algorithms only; RSA keys have 2048 to 4096 bits, since verifiers
// such as go-jose refuse larger ones. With -out the private key is also
// written as PEM to a new file created with mode 0600. The output contains a
// private key: keep it out of logs.
package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/pkjwt/pkjwt/jwks"

	"github.com/pkjwt/pkjwt/internal/cli"
)

func main() {
	os.Exit(cli.ExitCode("keygen", run(context.Background(), os.Args[1:], os.Stdout, os.Stderr), os.Stderr))
}

// checkBits says what is wrong with an RSA key size, in the flag's terms.
func checkBits(bits int) error {
	switch {
	case bits < 2048:
		return fmt.Errorf("-bits %d: an RSA key needs at least 2048 bits to be safe; use 2048, 3072 or 4096", bits)
	case bits > 4096:
		return fmt.Errorf("-bits %d: at most 4096, because verifiers such as go-jose refuse larger RSA keys; use 2048, 3072 or 4096", bits)
	case bits != 2048 && bits != 3072 && bits != 4096:
		return fmt.Errorf("-bits %d: use 2048, 3072 or 4096", bits)
	}
	return nil
}

// algorithms are the -alg values, every algorithm jwks signs with.
var algorithms = []jwks.Algorithm{
	jwks.RS256, jwks.RS384, jwks.RS512, jwks.PS256, jwks.PS384, jwks.PS512,
	jwks.ES256, jwks.ES384, jwks.ES512, jwks.EdDSA,
}

// envName is what a shell and a .env file accept as a variable name.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// parseAlgorithm returns the algorithm named s in any letter case.
func parseAlgorithm(s string) (jwks.Algorithm, error) {
	names := make([]string, len(algorithms))
	for i, a := range algorithms {
		if strings.EqualFold(s, string(a)) {
			return a, nil
		}
		names[i] = string(a)
	}
	return "", fmt.Errorf("-alg %q is not one of %s", s, strings.Join(names, ", "))
}

// isRSA reports whether alg signs with an RSA key.
func isRSA(alg jwks.Algorithm) bool {
	return strings.HasPrefix(string(alg), "RS") || strings.HasPrefix(string(alg), "PS")
}

// run is the whole program; main only maps its error to an exit code.
func run(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	alg := fs.String("alg", "RS256", "signing algorithm, in any letter case: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512 or EdDSA")
	bits := fs.Int("bits", 2048, "RSA key size: 2048, 3072 or 4096 (RS* and PS* only; EC and EdDSA keys have a fixed size)")
	env := fs.String("env", "JWT_PRIVATE_KEY", "name of the environment variable in the .env line")
	out := fs.String("out", "", "also write the private key PEM to this new file (mode 0600)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: keygen [flags]\n\nGenerates a signing key and prints a .env line, the public PEM and the public JWKS.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cli.FlagError{Err: err}
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q; see -h", fs.Arg(0))
	}
	bitsSet := false
	fs.Visit(func(f *flag.Flag) { bitsSet = bitsSet || f.Name == "bits" })
	// Every flag is checked before a key is generated or a file created.
	var errs []error
	a, err := parseAlgorithm(*alg)
	if err != nil {
		errs = append(errs, err)
	} else if bitsSet && !isRSA(a) {
		errs = append(errs, fmt.Errorf("-bits applies to RSA keys only; %s keys have a fixed size: drop -bits or choose an RS* or PS* -alg", a))
	} else if isRSA(a) {
		if err := checkBits(*bits); err != nil {
			errs = append(errs, err)
		}
	}
	if !envName.MatchString(*env) {
		errs = append(errs, fmt.Errorf("-env %q is not a variable name: use letters, digits and _, not starting with a digit (such as JWT_PRIVATE_KEY)", *env))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	var key *jwks.Key
	if isRSA(a) {
		key, err = jwks.GenerateRSA(*bits, a)
		if err != nil {
			// jwks says why: at least 2048 bits, at most 4096.
			return fmt.Errorf("-bits %d: %w", *bits, err)
		}
	} else if key, err = jwks.Generate(a); err != nil {
		return err
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
	if isRSA(a) && a != jwks.RS256 {
		// A PEM does not record the algorithm, and an RSA key loads as RS256.
		fmt.Fprintf(stdout, "# The PEM does not record the algorithm: load it with jwks.KeyConfig{Algorithm: jwks.%s} (examples/login: -alg %s).\n", a, a)
	}
	fmt.Fprintf(stdout, "%s=%s\n\n", *env, base64.StdEncoding.EncodeToString(priv))
	fmt.Fprintf(stdout, "# Public key PEM\n%s\n", key.PublicPEM())
	fmt.Fprintf(stdout, "# Public JWK Set, to paste into your provider's dashboard or serve at /.well-known/jwks.json\n%s\n", jwks.NewSet(key).JSON())
	return nil
}
