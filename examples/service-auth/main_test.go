package main

import (
	"bytes"
	"encoding/base64"
	"errors"
	"flag"
	"strings"
	"testing"

	"github.com/pkjwt/pkjwt/internal/testkeys"

	"github.com/pkjwt/pkjwt/internal/cli"
)

// TestRun runs both services end to end with a pre-generated key for M1 and
// checks each call's outcome. It uses t.Setenv, so it is not parallel.
func TestRun(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  string
		args []string
	}{
		{name: "RS256 defaults", key: testkeys.RSA2048A},
		{name: "ES256 short lifetime", key: testkeys.P256A, args: []string{"-lifetime", "2m", "-renew-before", "90s"}},
		{name: "EdDSA", key: testkeys.Ed25519A},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PKJWT_M1_KEY", base64.StdEncoding.EncodeToString(testkeys.PEM(tc.key)))
			var stdout, stderr bytes.Buffer
			args := append([]string{"-key-env", "PKJWT_M1_KEY"}, tc.args...)
			if err := run(t.Context(), args, &stdout, &stderr); err != nil {
				t.Fatalf("run(%q) error = %v\nstdout:\n%s", args, err, stdout.String())
			}
			out := stdout.String()
			lines := map[string]string{}
			for _, l := range strings.Split(out, "\n") {
				for _, p := range []string{"call 1 ", "call 2 ", "call 3 ", "end-user token", "no token", "expired token #1"} {
					if strings.Contains(l, p) {
						lines[p] = l
					}
				}
			}
			want := map[string][]string{
				"call 1 ":          {"token #1:", ": 200 hello m1"},
				"call 2 ":          {"token #1:", ": 200 hello m1"},
				"call 3 ":          {"token #2 (renewed", ": 200 hello m1"},
				"end-user token":   {": 401 ", "a required claim is missing or different"},
				"no token":         {": 401 ", `Bearer realm="m2"`},
				"expired token #1": {": 401 ", "the token expired"},
			}
			for p, subs := range want {
				for _, sub := range subs {
					if !strings.Contains(lines[p], sub) {
						t.Errorf("line %q = %q, want it to contain %q\nstdout:\n%s", p, lines[p], sub, out)
					}
				}
			}
			if strings.Contains(out, "eyJ") || strings.Contains(stderr.String(), "eyJ") {
				t.Errorf("output holds a token:\n%s", out)
			}
		})
	}
}

func TestUsage(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"-h"}, &stdout, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("run(-h) error = %v, want flag.ErrHelp", err)
	}
	for _, args := range [][]string{
		{"-lifetime", "2h"},
		{"-lifetime", "5m", "-renew-before", "5m"},
		{"-key-env", "A", "-key-file", "b"},
		{"-key-file", "/nonexistent/key.pem"},
		{"extra"},
	} {
		if err := run(t.Context(), args, &stdout, &stderr); err == nil {
			t.Errorf("run(%q) error = nil, want an error", args)
		}
	}
}

// TestFlagErrorPrintedOnce: the flag package prints a bad flag with the
// usage; the program then exits 2 without printing it again.
func TestFlagErrorPrintedOnce(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"-bogus"}, &stdout, &stderr)
	if code := cli.ExitCode("service-auth", err, &stderr); code != 2 {
		t.Errorf("ExitCode(run(-bogus)) = %d, want 2", code)
	}
	if n := strings.Count(stderr.String(), "-bogus"); n != 1 {
		t.Errorf("stderr names -bogus %d times, want once:\n%s", n, stderr.String())
	}
	stderr.Reset()
	if code := cli.ExitCode("service-auth", errors.New("boom"), &stderr); code != 1 || stderr.String() != "service-auth: boom\n" {
		t.Errorf("ExitCode(boom) = %d, stderr %q; want 1 and one line", code, stderr.String())
	}
}
