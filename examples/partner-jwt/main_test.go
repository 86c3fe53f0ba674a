package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"

	"github.com/pkjwt/pkjwt/internal/cli"
)

// running is the program started in the background by start.
type running struct {
	lines  *bufio.Scanner
	stderr *bytes.Buffer
	cancel context.CancelFunc
	done   chan struct{} // closed when run has returned
	err    error         // what run returned, set before done is closed
}

// start runs the program with args until the test ends or stop is called;
// its stdout is read line by line as it is written.
func start(t *testing.T, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	r := &running{lines: bufio.NewScanner(pr), stderr: &bytes.Buffer{}, cancel: cancel, done: make(chan struct{})}
	go func() {
		r.err = run(ctx, args, pw, r.stderr)
		pw.Close()
		close(r.done)
	}()
	t.Cleanup(func() {
		cancel()
		pr.Close()
		<-r.done
	})
	return r
}

// line returns the next line of stdout that starts with prefix, skipping others.
func (r *running) line(t *testing.T, prefix string) string {
	t.Helper()
	for r.lines.Scan() {
		if s, ok := strings.CutPrefix(r.lines.Text(), prefix); ok {
			return s
		}
	}
	t.Fatalf("stdout ended without a line starting with %q", prefix)
	return ""
}

// stop ends a -serve run and returns its error.
func (r *running) stop() error {
	r.cancel()
	go func() {
		for r.lines.Scan() { // drain, so that a last write does not block
		}
	}()
	<-r.done
	return r.err
}

func decodeSegment(t *testing.T, seg string, v any) {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatalf("decode %q: %v", seg, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}
}

// TestMintAndServe loads the key from JWT_PRIVATE_KEY, mints a token, serves
// the key set, and checks that the token verifies against the served set with
// the claims Crossmint expects. It uses t.Setenv, so it is not parallel.
func TestMintAndServe(t *testing.T) {
	t.Setenv("JWT_PRIVATE_KEY", base64.StdEncoding.EncodeToString(testkeys.PEM(testkeys.RSA2048A)))
	want, err := jwks.ParsePEM(testkeys.PEM(testkeys.RSA2048A), jwks.KeyConfig{Algorithm: jwks.RS256})
	if err != nil {
		t.Fatal(err)
	}
	r := start(t, "-project", "proj-1", "-user", "alice", "-print-token", "-serve", "-addr", "127.0.0.1:0")
	claimsLine := r.line(t, "claims: ")
	token := r.line(t, "eyJ")
	token = "eyJ" + token
	url := r.line(t, "serving the public key set at ")
	url, _, _ = strings.Cut(url, " ")

	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d", url, resp.StatusCode)
	}
	if got, want := string(body), string(jwks.NewSet(want).JSON()); got != want {
		t.Errorf("served set = %s, want the set of $JWT_PRIVATE_KEY %s", got, want)
	}
	if strings.Contains(string(body), `"d"`) {
		t.Error("served set carries the private member d")
	}

	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts, want 3", len(parts))
	}
	var header struct{ Alg, Kid, Typ string }
	decodeSegment(t, parts[0], &header)
	if header.Alg != "RS256" || header.Kid != want.KeyID() {
		t.Errorf("header alg %q kid %q, want RS256 and %q", header.Alg, header.Kid, want.KeyID())
	}
	// A partner fetches the served set and checks the signature with it.
	remote, err := jwks.NewRemote(url, jwks.RemoteConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer remote.Close()
	if _, err := remote.VerifySignature(t.Context(), token); err != nil {
		t.Errorf("token signature does not verify with the served set: %v", err)
	}
	var claims struct {
		Iss, Sub string
		Aud      any
		Exp, Iat int64
	}
	decodeSegment(t, parts[1], &claims)
	if claims.Iss != "proj-1" || claims.Sub != "alice" {
		t.Errorf("iss %q sub %q, want proj-1 and alice", claims.Iss, claims.Sub)
	}
	if aud, _ := claims.Aud.(string); aud != "crossmint.com" {
		if arr, _ := claims.Aud.([]any); len(arr) != 1 || arr[0] != "crossmint.com" {
			t.Errorf("aud = %v, want crossmint.com", claims.Aud)
		}
	}
	if got := time.Duration(claims.Exp-claims.Iat) * time.Second; got != 10*time.Minute {
		t.Errorf("exp - iat = %v, want 10m", got)
	}
	if time.Until(time.Unix(claims.Exp, 0)) > 10*time.Minute+time.Minute {
		t.Errorf("exp is more than 10 minutes ahead")
	}
	if !strings.Contains(claimsLine, `"sub":"alice"`) {
		t.Errorf("printed claims %s lack the subject", claimsLine)
	}
	if err := r.stop(); err != nil {
		t.Errorf("run -serve ended with %v, want nil after cancel", err)
	}
}

// TestGeneratesKey runs without a key: the program generates one, says so on
// stderr, and prints no token unless asked.
func TestGeneratesKey(t *testing.T) {
	t.Setenv("PKJWT_TEST_UNSET_KEY", "") // restored after the test
	os.Unsetenv("PKJWT_TEST_UNSET_KEY")
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"-key-env", "PKJWT_TEST_UNSET_KEY"}, &stdout, &stderr); err != nil {
		t.Fatalf("run() error = %v, stderr %s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "generated a throwaway RS256 key") {
		t.Errorf("stderr = %q, want a note that a key was generated", stderr.String())
	}
	out := stdout.String()
	if !strings.Contains(out, `"aud":"crossmint.com"`) {
		t.Errorf("stdout lacks the claims: %s", out)
	}
	// Only the first 12 characters of the token are printed.
	for _, line := range strings.Split(out, "\n") {
		if strings.Count(line, ".") >= 2 && strings.Contains(line, "eyJ") && !strings.Contains(line, "…") {
			t.Errorf("stdout prints a token without -print-token: %q", line)
		}
	}
	if strings.Contains(out, "PRIVATE KEY") || strings.Contains(stderr.String(), "PRIVATE KEY") {
		t.Error("output carries the private key")
	}
}

// TestRotate checks the rotation demo: both keys are published right after
// the rotation, the old key's tokens still verify during the day of grace,
// and the old key is gone after it.
func TestRotate(t *testing.T) {
	t.Setenv("JWT_PRIVATE_KEY", base64.StdEncoding.EncodeToString(testkeys.PEM(testkeys.RSA2048B)))
	old, _ := jwks.ParsePEM(testkeys.PEM(testkeys.RSA2048B), jwks.KeyConfig{Algorithm: jwks.RS256})
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"-rotate"}, &stdout, &stderr); err != nil {
		t.Fatalf("run(-rotate) error = %v, stderr %s", err, stderr.String())
	}
	lines := map[string]string{}
	steps := []string{"before rotation", "rotate", "+1h: new key signs", "+1d0h59m: still published", "+1d1h01m: old key gone"}
	for _, l := range strings.Split(stdout.String(), "\n") {
		for _, p := range steps {
			if strings.HasPrefix(l, p+" ") {
				lines[p] = l
			}
		}
	}
	check := func(step string, wantOldSigns, wantOldPublished, wantVerifies bool) {
		t.Helper()
		l := lines[step]
		if l == "" {
			t.Fatalf("no %q line in %s", step, stdout.String())
		}
		signing, rest, _ := strings.Cut(strings.TrimSpace(strings.TrimPrefix(l, step)), ";")
		if got := strings.Contains(signing, old.KeyID()[:8]); got != wantOldSigns {
			t.Errorf("%s: old key signs = %v, want %v: %s", step, got, wantOldSigns, l)
		}
		published, _, _ := strings.Cut(rest, ";")
		if got := strings.Contains(published, old.KeyID()[:8]); got != wantOldPublished {
			t.Errorf("%s: old key published = %v, want %v: %s", step, got, wantOldPublished, l)
		}
		if got := strings.HasSuffix(l, "verifies: true"); got != wantVerifies {
			t.Errorf("%s: old token verifies = %v, want %v: %s", step, got, wantVerifies, l)
		}
		if n := len(strings.Fields(strings.Trim(strings.TrimPrefix(strings.TrimSpace(published), "published "), "[]"))); wantOldPublished && step != "before rotation" && n != 2 {
			t.Errorf("%s: %d keys published, want old and new: %s", step, n, l)
		}
	}
	check("before rotation", true, true, true)
	check("rotate", true, true, true)
	check("+1h: new key signs", false, true, true)
	check("+1d0h59m: still published", false, true, true)
	check("+1d1h01m: old key gone", false, false, false)
}

func TestUsage(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"-h"}, &stdout, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("run(-h) error = %v, want flag.ErrHelp", err)
	}
	if !strings.Contains(stderr.String(), "-project") {
		t.Errorf("-h output lacks the flags: %q", stderr.String())
	}
	for _, args := range [][]string{{"-lifetime", "2h"}, {"extra"}, {"-key-file", "/nonexistent/key.pem"}} {
		if err := run(t.Context(), args, &stdout, &stderr); err == nil {
			t.Errorf("run(%q) error = nil, want an error", args)
		}
	}
}

// TestEmptyKeyVariableRefused: JWT_PRIVATE_KEY set but empty (a .env line
// without its value) is refused, not replaced by a throwaway key with exit
// status 0.
func TestEmptyKeyVariableRefused(t *testing.T) {
	for _, v := range []string{"", "  \n"} {
		t.Setenv("JWT_PRIVATE_KEY", v)
		var stdout, stderr bytes.Buffer
		err := run(t.Context(), nil, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), "JWT_PRIVATE_KEY is set but empty") {
			t.Errorf("run(JWT_PRIVATE_KEY=%q) error = %v, want a refusal naming the variable", v, err)
		}
		if stdout.Len() != 0 || strings.Contains(stderr.String(), "throwaway") {
			t.Errorf("run(JWT_PRIVATE_KEY=%q) minted anyway: stdout %q, stderr %q", v, stdout.String(), stderr.String())
		}
	}
}

// TestFlagErrors: flags are refused in their own terms (not the library's
// field and option names) before a key is loaded, and a flag error the
// flag package printed is not printed again.
func TestFlagErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-lifetime", "500ms"}, "-lifetime 500ms: use 1s to 1h"},
		{[]string{"-lifetime", "2h"}, "-lifetime 2h0m0s: use 1s to 1h"},
		{[]string{"-user", ""}, "-user is empty"},
		{[]string{"-user", " u"}, `-user " u" starts or ends with white space`},
		{[]string{"-project", ""}, "-project is empty"},
		{[]string{"-audience", ""}, "-audience is empty"},
		{[]string{"-audience", "a\x00"}, "control character"},
	} {
		var stdout, stderr bytes.Buffer
		err := run(t.Context(), tc.args, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run(%q) error = %v, want one saying %q", tc.args, err, tc.want)
			continue
		}
		for _, goSpeak := range []string{"TokenConfig", "With", "time.", "assertion:"} {
			if strings.Contains(err.Error(), goSpeak) {
				t.Errorf("run(%q) error = %v speaks Go (%q)", tc.args, err, goSpeak)
			}
		}
		if stderr.Len() != 0 {
			t.Errorf("run(%q) wrote to stderr before refusing: %q", tc.args, stderr.String())
		}
	}
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"-bogus"}, &stdout, &stderr)
	if code := cli.ExitCode("partner-jwt", err, &stderr); code != 2 || strings.Count(stderr.String(), "-bogus") != 1 {
		t.Errorf("run(-bogus): exit %d, stderr names -bogus %d times; want 2 and once", code, strings.Count(stderr.String(), "-bogus"))
	}
}
