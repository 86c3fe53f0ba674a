package main

// A small W3C WebDriver client (https://www.w3.org/TR/webdriver2/) over plain
// HTTP and JSON, enough to drive headless Chromium through chromedriver from a
// test without a new dependency.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	chromiumPath     = "/usr/bin/chromium"
	chromedriverPath = "/usr/bin/chromedriver"
	// webElementKey is the JSON member naming an element reference (W3C §12.1).
	webElementKey = "element-6066-11e4-a52e-4f735466cecf"
)

// browserOrSkip returns the paths of chromium and chromedriver: those of the
// Debian packages, or PKJWT_CHROMIUM and PKJWT_CHROMEDRIVER when set. When
// either is missing the test skips, unless PKJWT_REQUIRE_BROWSER=1 (CI),
// where it fails.
func browserOrSkip(t *testing.T) (chromium, driver string) {
	t.Helper()
	find := func(fixed, name string) string {
		if p, ok := os.LookupEnv("PKJWT_" + strings.ToUpper(name)); ok {
			if _, err := os.Stat(p); err == nil {
				return p
			}
			return ""
		}
		if _, err := os.Stat(fixed); err == nil {
			return fixed
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		return ""
	}
	chromium = find(chromiumPath, "chromium")
	driver = find(chromedriverPath, "chromedriver")
	if chromium != "" && driver != "" {
		return chromium, driver
	}
	msg := "chromium or chromedriver not found; install with: apt-get install chromium chromium-driver"
	if os.Getenv("PKJWT_REQUIRE_BROWSER") == "1" {
		t.Fatal(msg + " (PKJWT_REQUIRE_BROWSER=1: the browser test must run)")
	}
	t.Skip(msg)
	return "", ""
}

// webDriver is a chromedriver process and one browser session in it.
type webDriver struct {
	t       *testing.T
	base    string // http://127.0.0.1:port
	session string
	hc      *http.Client
}

// startWebDriver starts chromedriver on a free loopback port, waits until it
// says it is listening, and opens a headless Chromium session. Everything is
// shut down by t.Cleanup.
func startWebDriver(t *testing.T, chromium, driver string) *webDriver {
	t.Helper()
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, driver, "--port="+strconv.Itoa(port), "--allowed-ips=127.0.0.1")
	cmd.WaitDelay = 5 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", driver, err)
	}
	waited := make(chan struct{})
	t.Cleanup(func() {
		// Ask chromedriver to quit, which also ends any browser it still
		// runs; kill it only if it does not.
		hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil}}
		if resp, err := hc.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/shutdown"); err == nil {
			resp.Body.Close()
		}
		select {
		case <-waited:
		case <-time.After(10 * time.Second):
			cancel()
			<-waited
		}
		cancel()
	})
	// chromedriver prints "ChromeDriver was started successfully on port N."
	// once it listens; wait for that line instead of polling.
	ready := make(chan error, 1)
	go func() {
		defer close(waited)
		sc := bufio.NewScanner(stdout)
		var seen []string
		for sc.Scan() {
			line := sc.Text()
			if strings.Contains(line, "started successfully") {
				ready <- nil
				_, _ = io.Copy(io.Discard, stdout)
				_ = cmd.Wait()
				return
			}
			seen = append(seen, line)
		}
		werr := cmd.Wait() // after Wait, stderr is complete and safe to read
		ready <- fmt.Errorf("chromedriver exited before it was ready (%v): %s %s", werr, strings.Join(seen, " | "), stderr.String())
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("chromedriver did not start within 30s")
	}

	wd := &webDriver{
		t:    t,
		base: "http://127.0.0.1:" + strconv.Itoa(port),
		hc:   &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{Proxy: nil}},
	}
	caps := map[string]any{
		"capabilities": map[string]any{
			"alwaysMatch": map[string]any{
				"browserName":      "chrome",
				"pageLoadStrategy": "normal",
				"goog:chromeOptions": map[string]any{
					"binary": chromium,
					"args": []string{
						"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
						"--no-first-run", "--disable-background-networking",
						"--disable-component-update", "--disable-sync",
						"--disable-dev-shm-usage", "--no-proxy-server",
						"--window-size=1000,750",
						"--user-data-dir=" + t.TempDir(),
					},
				},
			},
		},
	}
	var created struct {
		SessionID string `json:"sessionId"`
	}
	if err := wd.call(http.MethodPost, "/session", caps, &created); err != nil {
		t.Fatalf("webdriver: new session: %v", err)
	}
	wd.session = created.SessionID
	t.Cleanup(func() {
		if err := wd.call(http.MethodDelete, "/session/"+wd.session, nil, nil); err != nil {
			t.Logf("webdriver: delete session: %v", err)
		}
	})
	// An implicit wait makes FindElement wait for the element to appear after
	// a navigation, so the test needs no sleeps.
	if err := wd.call(http.MethodPost, wd.path("/timeouts"), map[string]any{"implicit": 10000, "pageLoad": 30000}, nil); err != nil {
		t.Fatalf("webdriver: set timeouts: %v", err)
	}
	return wd
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (wd *webDriver) path(p string) string { return "/session/" + wd.session + p }

// webDriverError is the error object of a failed WebDriver command (W3C §6.6).
type webDriverError struct {
	Status  int
	Code    string `json:"error"`
	Message string `json:"message"`
}

func (e *webDriverError) Error() string {
	return fmt.Sprintf("webdriver: %s (HTTP %d): %s", e.Code, e.Status, firstLine(e.Message))
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// call sends one command and decodes the "value" member of the reply into out.
func (wd *webDriver) call(method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	} else if method == http.MethodPost {
		body = strings.NewReader("{}")
	}
	req, err := http.NewRequest(method, wd.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := wd.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return err
	}
	var env struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("webdriver: %s %s: HTTP %d, undecodable reply: %v", method, path, resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK {
		e := &webDriverError{Status: resp.StatusCode}
		_ = json.Unmarshal(env.Value, e)
		return e
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(env.Value, out)
}

// Navigate loads u and waits for the page to load.
func (wd *webDriver) Navigate(u string) {
	wd.t.Helper()
	if err := wd.call(http.MethodPost, wd.path("/url"), map[string]string{"url": u}, nil); err != nil {
		wd.t.Fatalf("navigate to %s: %v", u, err)
	}
}

// URL returns the current page's URL.
func (wd *webDriver) URL() string {
	wd.t.Helper()
	var u string
	if err := wd.call(http.MethodGet, wd.path("/url"), nil, &u); err != nil {
		wd.t.Fatalf("get url: %v", err)
	}
	return u
}

// Title returns the current page's title.
func (wd *webDriver) Title() string {
	wd.t.Helper()
	var s string
	if err := wd.call(http.MethodGet, wd.path("/title"), nil, &s); err != nil {
		wd.t.Fatalf("get title: %v", err)
	}
	return s
}

// FindElement returns the first element matching the CSS selector, waiting
// up to the implicit timeout for it to appear.
func (wd *webDriver) FindElement(css string) string {
	wd.t.Helper()
	id, err := wd.findElement(css)
	if err != nil {
		wd.t.Fatalf("find %q on %s: %v", css, wd.URL(), err)
	}
	return id
}

func (wd *webDriver) findElement(css string) (string, error) {
	var ref map[string]string
	if err := wd.call(http.MethodPost, wd.path("/element"), map[string]string{"using": "css selector", "value": css}, &ref); err != nil {
		return "", err
	}
	id, ok := ref[webElementKey]
	if !ok {
		return "", errors.New("webdriver: reply carries no element reference")
	}
	return id, nil
}

// Click clicks the element; a click that submits a form or follows a link
// waits for the navigation it starts.
func (wd *webDriver) Click(elem string) {
	wd.t.Helper()
	if err := wd.call(http.MethodPost, wd.path("/element/"+elem+"/click"), nil, nil); err != nil {
		wd.t.Fatalf("click: %v", err)
	}
}

// Text returns the element's rendered text.
func (wd *webDriver) Text(elem string) string {
	wd.t.Helper()
	var s string
	if err := wd.call(http.MethodGet, wd.path("/element/"+elem+"/text"), nil, &s); err != nil {
		wd.t.Fatalf("get text: %v", err)
	}
	return s
}

// Screenshot returns the current viewport as PNG.
func (wd *webDriver) Screenshot() []byte {
	wd.t.Helper()
	var b64 string
	if err := wd.call(http.MethodGet, wd.path("/screenshot"), nil, &b64); err != nil {
		wd.t.Fatalf("screenshot: %v", err)
	}
	png, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		wd.t.Fatalf("screenshot: %v", err)
	}
	return png
}

// Cookies returns the names of the cookies visible to the current page with
// their HttpOnly and SameSite attributes.
func (wd *webDriver) Cookies() []webCookie {
	wd.t.Helper()
	var cs []webCookie
	if err := wd.call(http.MethodGet, wd.path("/cookie"), nil, &cs); err != nil {
		wd.t.Fatalf("get cookies: %v", err)
	}
	return cs
}

// webCookie is a cookie as WebDriver serialises it (W3C §14).
type webCookie struct {
	Name     string `json:"name"`
	HTTPOnly bool   `json:"httpOnly"`
	SameSite string `json:"sameSite"`
}
