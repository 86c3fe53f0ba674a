package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pkjwt/pkjwt/jwks"

	"github.com/pkjwt/pkjwt/internal/cli"
)

// TestRun runs the program for each algorithm and checks that the .env line
// loads back as the same key that the printed JWKS publishes.
// It uses t.Setenv, so it does not run in parallel.
func TestRun(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "key.pem")
			var stdout, stderr bytes.Buffer
			if err := run(t.Context(), []string{"-alg", alg, "-out", out, "-env", "MY_KEY"}, &stdout, &stderr); err != nil {
				t.Fatalf("run(-alg %s) error = %v, stderr %s", alg, err, stderr.String())
			}
			var envValue, jwksLine string
			for _, line := range strings.Split(stdout.String(), "\n") {
				if v, ok := strings.CutPrefix(line, "MY_KEY="); ok {
					envValue = v
				}
				if strings.HasPrefix(line, `{"keys":`) {
					jwksLine = line
				}
			}
			t.Setenv("MY_KEY_"+alg, envValue)
			key, err := jwks.LoadPEMEnv("MY_KEY_"+alg, jwks.KeyConfig{})
			if err != nil {
				t.Fatalf("LoadPEMEnv of the printed .env line: %v", err)
			}
			if string(key.Algorithm()) != alg {
				t.Errorf("loaded key alg = %s, want %s", key.Algorithm(), alg)
			}
			if got, want := jwksLine, string(jwks.NewSet(key).JSON()); got != want {
				t.Errorf("printed JWKS = %s, want the set of the .env key %s", got, want)
			}
			var set struct{ Keys []map[string]any }
			if err := json.Unmarshal([]byte(jwksLine), &set); err != nil || len(set.Keys) != 1 {
				t.Fatalf("printed JWKS does not parse as one key: %v", err)
			}
			if _, ok := set.Keys[0]["d"]; ok {
				t.Error("printed JWKS carries the private member d")
			}
			if !strings.Contains(stdout.String(), "-----BEGIN PUBLIC KEY-----") {
				t.Error("output lacks the public key PEM")
			}
			fi, err := os.Stat(out)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("-out file mode = %v, want 0600", fi.Mode().Perm())
			}
			fileKey, err := jwks.LoadPEMFile(out, jwks.KeyConfig{})
			if err != nil || fileKey.KeyID() != key.KeyID() {
				t.Errorf("-out file holds a different key (err %v)", err)
			}
			// A second run must not overwrite the file.
			if err := run(t.Context(), []string{"-alg", alg, "-out", out}, &stdout, &stderr); err == nil {
				t.Error("second run with the same -out succeeded; want an error instead of overwriting a key")
			}
		})
	}
}

func TestRunErrors(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"-h"}, &stdout, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("run(-h) error = %v, want flag.ErrHelp", err)
	}
	if !strings.Contains(stderr.String(), "-alg") {
		t.Errorf("-h output lacks the flags: %q", stderr.String())
	}
	allNames := "RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA"
	for _, tc := range []struct {
		name string
		args []string
		want []string // substrings of the error
	}{
		{"HMAC", []string{"-alg", "HS256"}, []string{`"HS256"`, allNames}},
		{"unknown alg", []string{"-alg", "rs257"}, []string{`"rs257"`, allNames}},
		{"empty alg", []string{"-alg", ""}, []string{allNames}},
		{"RSA 1024", []string{"-alg", "RS256", "-bits", "1024"}, []string{"-bits 1024", "at least 2048"}},
		{"RSA 1024, lower case", []string{"-alg", "ps256", "-bits", "1024"}, []string{"-bits 1024", "at least 2048"}},
		{"RSA 8192", []string{"-bits", "8192"}, []string{"-bits 8192", "at most 4096", "go-jose"}},
		{"RSA 2049", []string{"-bits", "2049"}, []string{"-bits 2049", "2048, 3072 or 4096"}},
		{"bits with ES256", []string{"-alg", "ES256", "-bits", "4096"}, []string{"-bits applies to RSA keys only", "ES256"}},
		{"bits 2048 with EdDSA", []string{"-alg", "eddsa", "-bits", "2048"}, []string{"-bits applies to RSA keys only", "EdDSA"}},
		{"empty env", []string{"-alg", "ES256", "-env", ""}, []string{`-env ""`, "variable name"}},
		{"env with =", []string{"-alg", "ES256", "-env", "A=B"}, []string{`-env "A=B"`}},
		{"env with a digit first", []string{"-alg", "ES256", "-env", "1KEY"}, []string{`-env "1KEY"`}},
		{"env with a space", []string{"-alg", "ES256", "-env", "MY KEY"}, []string{`-env "MY KEY"`}},
		{"every problem at once", []string{"-alg", "ES384", "-bits", "1024", "-env", ""}, []string{"-bits applies", `-env ""`}},
		{"extra argument", []string{"extra"}, []string{"unexpected argument"}},
	} {
		out := filepath.Join(t.TempDir(), "key.pem")
		stdout.Reset()
		args := append([]string{"-out", out}, tc.args...)
		err := run(t.Context(), args, &stdout, &stderr)
		if err == nil {
			t.Errorf("run(%s: %q) error = nil, want an error", tc.name, args)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("run(%s: %q) error = %q, want it to mention %q", tc.name, args, err, w)
			}
		}
		if strings.Contains(err.Error(), "jwks:") {
			t.Errorf("run(%s: %q) error = %q, want it in the flags' terms, not the library's", tc.name, args, err)
		}
		if stdout.Len() != 0 {
			t.Errorf("run(%s: %q) printed %d bytes on a refusal", tc.name, args, stdout.Len())
		}
		if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("run(%s: %q) created -out (stat error %v), want nothing written on a refusal", tc.name, args, err)
		}
	}
}

// TestAlgorithmNames: -alg is matched in any letter case and the key
// printed is of the canonical algorithm; no printed line starts with "=".
func TestAlgorithmNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ arg, want string }{
		{"rs256", "RS256"}, {"Es384", "ES384"}, {"es512", "ES512"}, {"EDDSA", "EdDSA"}, {"eddsa", "EdDSA"},
	} {
		var stdout, stderr bytes.Buffer
		if err := run(t.Context(), []string{"-alg", tc.arg}, &stdout, &stderr); err != nil {
			t.Errorf("run(-alg %s) error = %v", tc.arg, err)
			continue
		}
		if !strings.Contains(stdout.String(), "("+tc.want+", kid ") || !strings.Contains(stdout.String(), `"alg":"`+tc.want+`"`) {
			t.Errorf("run(-alg %s) output is not of %s:\n%s", tc.arg, tc.want, stdout.String())
		}
		for _, line := range strings.Split(stdout.String(), "\n") {
			if strings.HasPrefix(line, "=") {
				t.Errorf("run(-alg %s) printed a line starting with =", tc.arg)
			}
		}
	}
}

// TestEveryAlgorithm generates a key for every algorithm keygen offers (the
// list examples/login's TestHeadlessEveryKeygenAlgorithm logs in with) and
// checks that the .env line loads back with that algorithm.
func TestEveryAlgorithm(t *testing.T) {
	want := []jwks.Algorithm{
		jwks.RS256, jwks.RS384, jwks.RS512, jwks.PS256, jwks.PS384, jwks.PS512,
		jwks.ES256, jwks.ES384, jwks.ES512, jwks.EdDSA,
	}
	if !slices.Equal(algorithms, want) {
		t.Fatalf("algorithms = %v, want %v (update examples/login's keygenAlgorithms too)", algorithms, want)
	}
	for _, alg := range algorithms {
		var stdout, stderr bytes.Buffer
		if err := run(t.Context(), []string{"-alg", string(alg), "-env", "K"}, &stdout, &stderr); err != nil {
			t.Errorf("run(-alg %s) error = %v", alg, err)
			continue
		}
		var env string
		for _, line := range strings.Split(stdout.String(), "\n") {
			if v, ok := strings.CutPrefix(line, "K="); ok {
				env = v
			}
		}
		t.Setenv("PKJWT_KEYGEN_TEST_KEY", env)
		k, err := jwks.LoadPEMEnv("PKJWT_KEYGEN_TEST_KEY", jwks.KeyConfig{Algorithm: alg})
		if err != nil {
			t.Errorf("run(-alg %s): the .env line does not load as %s: %v", alg, alg, err)
			continue
		}
		if !strings.Contains(stdout.String(), "kid "+k.KeyID()) {
			t.Errorf("run(-alg %s): printed kid is not the key's %s", alg, k.KeyID())
		}
		// Loaded without an algorithm, the key signs RS256, ES* by curve or
		// EdDSA; for any other algorithm the output must say how to load it.
		if plain, err := jwks.LoadPEMEnv("PKJWT_KEYGEN_TEST_KEY", jwks.KeyConfig{}); err == nil && plain.Algorithm() != alg {
			if !strings.Contains(stdout.String(), "-alg "+string(alg)) || !strings.Contains(stdout.String(), "Algorithm: jwks."+string(alg)) {
				t.Errorf("run(-alg %s): the output does not say the key loads as %s only with its algorithm given:\n%s", alg, alg, stdout.String())
			}
		}
	}
}

// TestFlagErrorPrintedOnce: the flag package prints a bad flag with the
// usage; the program then exits 2 without printing it again.
func TestFlagErrorPrintedOnce(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"-bogus"}, &stdout, &stderr)
	if code := cli.ExitCode("keygen", err, &stderr); code != 2 {
		t.Errorf("ExitCode(run(-bogus)) = %d, want 2", code)
	}
	if n := strings.Count(stderr.String(), "-bogus"); n != 1 {
		t.Errorf("stderr names -bogus %d times, want once:\n%s", n, stderr.String())
	}
	stderr.Reset()
	if code := cli.ExitCode("keygen", errors.New("boom"), &stderr); code != 1 || stderr.String() != "keygen: boom\n" {
		t.Errorf("ExitCode(boom) = %d, stderr %q; want 1 and one line", code, stderr.String())
	}
}
