package interop_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// requireEnv makes a missing Node.js an error instead of a skip (CI sets it).
const requireEnv = "PKJWT_REQUIRE_INTEROP"

// minNodeMajor is the oldest Node.js major the suite runs on (20.12 and
// later; see checkNode). oidc-provider 9 recommends 22 LTS and warns on 20,
// which works.
const minNodeMajor = 20

const (
	// startTimeout bounds the whole start of server.mjs: from starting node
	// to every provider answering its discovery document. Loading
	// oidc-provider took more than 20 s on a loaded machine; a healthy start
	// takes about a second, and the wait ends as soon as the providers
	// answer.
	startTimeout = 90 * time.Second
	// pollInterval is the pause between two readiness probes.
	pollInterval = 100 * time.Millisecond
	npmTimeout   = 3 * time.Minute
	stopTimeout  = 5 * time.Second
)

// errNoNode marks a machine without a usable Node.js or npm: the suite skips
// there unless PKJWT_REQUIRE_INTEROP=1.
var errNoNode = errors.New("interop: node and npm not usable")

// Set once by TestMain before any test runs, read-only afterwards.
var (
	// skipReason is non-empty when the suite cannot run here.
	skipReason string
	// env is the running provider setup.
	env *interopEnv
)

// TestMain installs oidc-provider when needed, starts server.mjs with two
// providers (strict and lenient audience rules) on free loopback ports, runs
// the tests and stops the server. Afterwards it checks the providers' refusal
// logs: no request the library made may have been refused as a replay.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	e, err := setup()
	if err != nil {
		if errors.Is(err, errNoNode) && os.Getenv(requireEnv) != "1" {
			skipReason = fmt.Sprintf("%v; to run the interop suite install Node.js 20.12 or later and npm (apt-get install nodejs npm, where the distribution's nodejs is new enough), or set %s=1 to make this a failure", err, requireEnv)
			return m.Run()
		}
		fmt.Fprintf(os.Stderr, "interop: setup failed: %v\n", err)
		return 1
	}
	env = e
	code := m.Run()
	if code == 0 {
		if err := e.checkRefusals(); err != nil {
			fmt.Fprintf(os.Stderr, "interop: %v\n", err)
			code = 1
		}
	}
	if err := e.stop(); err != nil {
		fmt.Fprintf(os.Stderr, "interop: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	if code != 0 {
		fmt.Fprintf(os.Stderr, "interop: server.mjs stderr:\n%s\n", e.stderr.String())
	}
	return code
}

// recordInputs makes go test's result cache depend on the Node side and on
// PKJWT_REQUIRE_INTEROP. The cache only sees files opened and variables read
// while tests run (after TestMain calls m.Run), hence here and not in setup.
var recordInputs = sync.OnceFunc(func() {
	_ = os.Getenv(requireEnv)
	for _, name := range nodeInputs {
		_, _ = os.Stat(name)
		_, _ = os.ReadFile(name)
	}
})

// needInterop skips the test when the suite cannot run on this machine.
func needInterop(t *testing.T) *interopEnv {
	t.Helper()
	recordInputs()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	if env == nil {
		t.Fatal("interop: environment not started")
	}
	return env
}

// checkNode reports errNoNode when node or npm is missing or too old.
// oidc-provider 9 calls crypto.hash, which Node.js has from 20.12 and 21.7
// (Debian 12's own nodejs, 18.19, lacks it); the check asks node itself.
func checkNode() error {
	for _, name := range []string{"node", "npm"} {
		if _, err := exec.LookPath(name); err != nil {
			return fmt.Errorf("%w: %s not found in PATH", errNoNode, name)
		}
	}
	out, err := exec.Command("node", "--version").Output()
	if err != nil {
		return fmt.Errorf("%w: node --version: %v", errNoNode, err)
	}
	v := strings.TrimSpace(string(out))
	major, _, _ := strings.Cut(strings.TrimPrefix(v, "v"), ".")
	n, err := strconv.Atoi(major)
	if err == nil && n >= minNodeMajor {
		err = exec.Command("node", "-e", `process.exit(typeof require("node:crypto").hash === "function" ? 0 : 1)`).Run()
	}
	if err != nil || n < minNodeMajor {
		return fmt.Errorf("%w: node %s is too old (oidc-provider 9 needs Node.js 20.12 or later, 22 LTS recommended)", errNoNode, v)
	}
	return nil
}

// nodeInputs are the files that decide what the Node side does: go test's
// result cache must be invalidated when one changes (it tracks files the
// test process opens, not those node opens). See recordInputs.
var nodeInputs = []string{"server.mjs", "package.json", "package-lock.json", filepath.Join("node_modules", "oidc-provider", "package.json")}

// installProvider runs npm ci when node_modules lacks oidc-provider.
func installProvider() error {
	if _, err := os.Stat(filepath.Join("node_modules", "oidc-provider", "package.json")); err == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), npmTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--prefer-offline")
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm ci in internal/interop: %v\n%s", err, out.String())
	}
	return nil
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	// guards b
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// nodeServer is a running server.mjs.
type nodeServer struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	// exited is closed once the process has exited and been reaped;
	// waitErr, cmd.Wait's result, may be read after that.
	exited  chan struct{}
	waitErr error
	stderr  *syncBuffer
	// issuers maps the provider names of the config to their issuer URLs.
	issuers map[string]string
}

// startNode starts server.mjs with cfg, waits for its READY line, then polls
// every provider's discovery document until it answers, all within
// startTimeout.
func startNode(cfg serverConfig, stderr *syncBuffer) (*nodeServer, error) {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("node", "server.mjs")
	cmd.Env = append(os.Environ(), "PKJWT_INTEROP_CONFIG="+string(raw))
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start node server.mjs: %v", err)
	}
	s := &nodeServer{cmd: cmd, stdin: stdin, exited: make(chan struct{}), stderr: stderr}

	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		sent := false
		for sc.Scan() {
			if line, ok := strings.CutPrefix(sc.Text(), "READY "); ok && !sent {
				ready <- line
				sent = true
			}
		}
		if !sent {
			close(ready)
		}
		// Reap only after stdout is drained, as os/exec requires.
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()

	select {
	case line, ok := <-ready:
		if !ok {
			<-s.exited
			return nil, fmt.Errorf("server.mjs exited before READY (%v); stderr:\n%s", s.waitErr, stderr.String())
		}
		if err := json.Unmarshal([]byte(line), &s.issuers); err != nil {
			_ = s.stop()
			return nil, fmt.Errorf("server.mjs READY line %q: %v", line, err)
		}
	case <-ctx.Done():
		_ = s.stop()
		return nil, fmt.Errorf("server.mjs not READY within %v; stderr:\n%s", startTimeout, stderr.String())
	}
	if err := s.waitServing(ctx); err != nil {
		_ = s.stop()
		return nil, fmt.Errorf("%v; stderr:\n%s", err, stderr.String())
	}
	return s, nil
}

// waitServing polls each provider's discovery document until it answers 200,
// so that no test meets a provider that printed READY but does not serve yet.
// It gives up when ctx ends or the process exits.
func (s *nodeServer) waitServing(ctx context.Context) error {
	hc := &http.Client{Timeout: 5 * time.Second}
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for name, issuer := range s.issuers {
		u := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
		var last error
		for {
			last = probeOK(ctx, hc, u)
			if last == nil {
				break
			}
			select {
			case <-tick.C:
			case <-s.exited:
				return fmt.Errorf("server.mjs exited (%v) before provider %s served %s", s.waitErr, name, u)
			case <-ctx.Done():
				return fmt.Errorf("provider %s did not serve %s within %v: %v", name, u, startTimeout, last)
			}
		}
	}
	return nil
}

// probeOK GETs u once and reports whether it answered 200.
func probeOK(ctx context.Context, hc *http.Client, u string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// stop closes server.mjs's stdin, which makes it exit, and kills it when it
// has not exited within stopTimeout.
func (s *nodeServer) stop() error {
	_ = s.stdin.Close()
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-s.exited:
		return nil
	case <-timer.C:
		_ = s.cmd.Process.Kill()
		<-s.exited
		return fmt.Errorf("server.mjs did not exit within %v after stdin closed; killed", stopTimeout)
	}
}
