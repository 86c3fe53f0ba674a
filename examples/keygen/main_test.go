package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkjwt/pkjwt/jwks"
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
	for _, args := range [][]string{{"-alg", "HS256"}, {"-alg", "RS256", "-bits", "1024"}, {"extra"}} {
		if err := run(t.Context(), args, &stdout, &stderr); err == nil {
			t.Errorf("run(%q) error = nil, want an error", args)
		}
	}
}
