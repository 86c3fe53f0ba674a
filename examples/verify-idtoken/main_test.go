package main

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"

	"github.com/pkjwt/pkjwt/provider"
	"github.com/pkjwt/pkjwt/provider/providertest"

	"github.com/pkjwt/pkjwt/internal/cli"
)

// issue starts a provider and logs in once to get a real ID token.
func issue(t *testing.T) (*providertest.Server, string) {
	t.Helper()
	op := providertest.New(t, providertest.Config{User: providertest.User{Subject: "email|alice"}})
	raw, err := loginIDToken(t.Context(), op, "my-client")
	if err != nil {
		t.Fatalf("login at the test provider: %v", err)
	}
	return op, raw
}

// TestVerify verifies a real ID token given as the argument and on stdin,
// and prints sub and sid.
func TestVerify(t *testing.T) {
	t.Parallel()
	op, raw := issue(t)
	for _, tc := range []struct {
		name  string
		args  []string
		stdin string
	}{
		{name: "argument", args: []string{"-issuer", op.Issuer(), "-client-id", "my-client", raw}},
		{name: "stdin", args: []string{"-issuer", op.Issuer(), "-client-id", "my-client"}, stdin: "\n" + raw + "\n"},
		{name: "stdin dash", args: []string{"-issuer", op.Issuer(), "-client-id", "my-client", "-"}, stdin: raw},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			if err := runWithStdin(t.Context(), tc.args, strings.NewReader(tc.stdin), &stdout, &stderr); err != nil {
				t.Fatalf("run(%s) error = %v", tc.name, err)
			}
			out := stdout.String()
			if !strings.Contains(out, "sub: email|alice\n") {
				t.Errorf("stdout lacks the subject:\n%s", out)
			}
			if !strings.Contains(out, "sid: ") || strings.Contains(out, "sid: (none)") {
				t.Errorf("stdout lacks the session ID:\n%s", out)
			}
			if strings.Contains(out, raw[:20]) {
				t.Errorf("stdout echoes the token:\n%s", out)
			}
		})
	}
}

// TestEditedPayloadRefused is the point of the example: a token whose payload
// was edited (sub changed) with its signature kept decodes fine but is
// refused, because its signature no longer matches.
func TestEditedPayloadRefused(t *testing.T) {
	t.Parallel()
	op, raw := issue(t)
	forged, err := editSubject(raw, "email|mallory")
	if err != nil {
		t.Fatal(err)
	}
	if forged == raw || strings.Split(forged, ".")[2] != strings.Split(raw, ".")[2] {
		t.Fatal("editSubject did not keep the signature or did not change the payload")
	}
	var stdout, stderr bytes.Buffer
	err = runWithStdin(t.Context(), []string{"-issuer", op.Issuer(), "-client-id", "my-client", forged}, strings.NewReader(""), &stdout, &stderr)
	if !errors.Is(err, provider.ErrInvalidSignature) {
		t.Fatalf("run(edited token) error = %v, want provider.ErrInvalidSignature", err)
	}
	if strings.Contains(stdout.String(), "mallory") || strings.Contains(err.Error(), "mallory") {
		t.Errorf("the edited subject shows up as if trusted: stdout %q, error %v", stdout.String(), err)
	}
}

// TestRefusals checks the other checks that make verifying differ from
// decoding: the audience, the issuer and the nonce.
func TestRefusals(t *testing.T) {
	t.Parallel()
	op, raw := issue(t)
	other := providertest.New(t, providertest.Config{})
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr error
	}{
		{name: "other client", args: []string{"-issuer", op.Issuer(), "-client-id", "another-client", raw}, wantErr: provider.ErrInvalidAudience},
		// providertest servers share their pre-generated keys, so the
		// signature verifies here and the iss check refuses the token.
		{name: "other issuer", args: []string{"-issuer", other.Issuer(), "-client-id", "my-client", raw}, wantErr: provider.ErrInvalidIssuer},
		{name: "wrong nonce", args: []string{"-issuer", op.Issuer(), "-client-id", "my-client", "-nonce", "not-the-nonce", raw}, wantErr: provider.ErrNonceMismatch},
		{name: "not a JWT", args: []string{"-issuer", op.Issuer(), "-client-id", "my-client", "hello"}, wantErr: provider.ErrMalformedToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			err := runWithStdin(t.Context(), tc.args, strings.NewReader(""), &stdout, &stderr)
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("run(%s) error = %v, want %v", tc.name, err, tc.wantErr)
			}
		})
	}
}

// TestDemo runs the program with no flags, as the README does.
func TestDemo(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if err := runWithStdin(t.Context(), nil, strings.NewReader(""), &stdout, &stderr); err != nil {
		t.Fatalf("run() error = %v, stderr %s", err, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"ID token verified", "sub: email|5f1c8e2a\n", "refused: token refused", "signature", "Decoding a JWT is not verifying it"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "eyJ") {
		t.Errorf("stdout shows a token:\n%s", out)
	}
}

func TestUsage(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if err := runWithStdin(t.Context(), []string{"-h"}, strings.NewReader(""), &stdout, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("run(-h) error = %v, want flag.ErrHelp", err)
	}
	for _, args := range [][]string{
		{"some.token.here"},
		{"-issuer", "https://op.example", "x.y.z"},
		{"-issuer", "https://op.example", "-client-id", "c", "a", "b"},
	} {
		if err := runWithStdin(t.Context(), args, strings.NewReader(""), &stdout, &stderr); err == nil {
			t.Errorf("run(%q) error = nil, want an error", args)
		}
	}
	// An empty stdin is an error that says what to give.
	err := runWithStdin(t.Context(), []string{"-issuer", "http://127.0.0.1:1", "-client-id", "c"}, strings.NewReader("\n\n"), &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "no ID token") {
		t.Errorf("run(empty stdin) error = %v, want no ID token", err)
	}
}

// TestFlagErrorPrintedOnce: the flag package prints a bad flag with the
// usage; the program then exits 2 without printing it again.
func TestFlagErrorPrintedOnce(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	err := runWithStdin(t.Context(), []string{"-bogus"}, strings.NewReader(""), &stdout, &stderr)
	if code := cli.ExitCode("verify-idtoken", err, &stderr); code != 2 {
		t.Errorf("ExitCode(run(-bogus)) = %d, want 2", code)
	}
	if n := strings.Count(stderr.String(), "-bogus"); n != 1 {
		t.Errorf("stderr names -bogus %d times, want once:\n%s", n, stderr.String())
	}
	stderr.Reset()
	if code := cli.ExitCode("verify-idtoken", errors.New("boom"), &stderr); code != 1 || stderr.String() != "verify-idtoken: boom\n" {
		t.Errorf("ExitCode(boom) = %d, stderr %q; want 1 and one line", code, stderr.String())
	}
	if code := cli.ExitCode("verify-idtoken", runWithStdin(t.Context(), []string{"-h"}, strings.NewReader(""), &stdout, &stderr), &stderr); code != 0 {
		t.Errorf("ExitCode(run(-h)) = %d, want 0", code)
	}
}

// TestLongStdin: more than the bound on one line is refused with a message
// that says what to give, not bufio's "token too long".
func TestLongStdin(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	for _, n := range []int{40 << 10, 70 << 10} {
		in := strings.Repeat("a", n) + "\n"
		err := runWithStdin(t.Context(), []string{"-issuer", "http://127.0.0.1:1", "-client-id", "c"}, strings.NewReader(in), &stdout, &stderr)
		if n > maxTokenInput {
			if err == nil || strings.Contains(err.Error(), "bufio") || !strings.Contains(err.Error(), "64 KiB") {
				t.Errorf("run(%d bytes on stdin) error = %v, want one naming the 64 KiB bound", n, err)
			}
		} else if err == nil || strings.Contains(err.Error(), "KiB") {
			// Read whole, then the discovery at port 1 fails.
			t.Errorf("run(%d bytes on stdin) error = %v, want a discovery error", n, err)
		}
	}
}

// TestAlgFlag: -alg is checked before anything is fetched, in any letter
// case, and HMAC, none and empty entries are refused with the list.
func TestAlgFlag(t *testing.T) {
	t.Parallel()
	got, err := parseAlgorithms("rs256, ES256,EdDSA,ed25519")
	if err != nil || len(got) != 4 || got[0] != "RS256" || got[1] != "ES256" || got[2] != "EdDSA" || got[3] != "Ed25519" {
		t.Errorf("parseAlgorithms(rs256, ES256,EdDSA,ed25519) = %v, %v", got, err)
	}
	for _, bad := range []string{"HS256", "none", "", "RS256,", "RS999"} {
		var stdout, stderr bytes.Buffer
		err := runWithStdin(t.Context(), []string{"-issuer", "http://127.0.0.1:1", "-client-id", "c", "-alg", bad, "x.y.z"}, strings.NewReader(""), &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), "-alg") || !strings.Contains(err.Error(), "RS256, RS384") || strings.Contains(err.Error(), "discover") {
			t.Errorf("run(-alg %q) error = %v, want a flag error listing the algorithms", bad, err)
		}
	}
}
