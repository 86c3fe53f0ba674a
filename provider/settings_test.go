package provider_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/provider"
)

// passThrough is a caller's transport, recognisable by identity.
type passThrough struct{ base http.RoundTripper }

func (p *passThrough) RoundTrip(r *http.Request) (*http.Response, error) { return p.base.RoundTrip(r) }

// TestConfigReturnsSettings: Config hands back the caller's transport,
// timeout, clock, logger and body limit, so that another package can reuse
// them; the copy does not alias the provider's client.
func TestConfigReturnsSettings(t *testing.T) {
	t.Parallel()
	f := newFakeIDP(t, testKey(t, testkeys.RSA2048A, "a"))
	rt := &passThrough{base: http.DefaultTransport}
	now := func() time.Time { return testNow.Add(42 * time.Second) }
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	p := f.discover(t, provider.Config{
		HTTPClient:   &http.Client{Transport: rt, Timeout: 3 * time.Second},
		Now:          now,
		Logger:       log,
		MaxBodyBytes: 64 << 10,
	})
	cfg := p.Config()
	if cfg.HTTPClient == nil || cfg.HTTPClient.Transport != rt || cfg.HTTPClient.Timeout != 3*time.Second {
		t.Errorf("Config().HTTPClient = %+v, want the caller's transport and timeout", cfg.HTTPClient)
	}
	if cfg.Now == nil || !cfg.Now().Equal(now()) {
		t.Error("Config().Now is not the configured clock")
	}
	if cfg.Logger != log {
		t.Error("Config().Logger is not the configured logger")
	}
	if cfg.MaxBodyBytes != 64<<10 {
		t.Errorf("Config().MaxBodyBytes = %d, want %d", cfg.MaxBodyBytes, 64<<10)
	}
	cfg.HTTPClient.Timeout = time.Hour
	if p.Config().HTTPClient.Timeout != 3*time.Second || provider.BoundedClientForTest(p).Timeout != 3*time.Second {
		t.Error("changing Config().HTTPClient changed the provider's client")
	}
}

// TestConfigDefaults: with nothing configured, every setting is usable and
// bounded; the redirect rule of the provider's client stays.
func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	f := newFakeIDP(t, testKey(t, testkeys.RSA2048A, "a"))
	p, err := provider.Discover(t.Context(), f.issuer(), provider.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	cfg := p.Config()
	switch hc := cfg.HTTPClient; {
	case hc == nil || hc == http.DefaultClient:
		t.Fatalf("Config().HTTPClient = %v, want a copy of the provider's client", hc)
	case hc.Timeout != 10*time.Second:
		t.Errorf("Config().HTTPClient.Timeout = %v, want the documented 10s", hc.Timeout)
	case hc.Transport != http.DefaultTransport:
		t.Errorf("Config().HTTPClient.Transport = %T, want http.DefaultTransport", hc.Transport)
	case hc.CheckRedirect == nil:
		t.Error("Config().HTTPClient has no redirect rule")
	default:
		from, _ := http.NewRequest(http.MethodGet, "https://op.example/a", nil)
		to, _ := http.NewRequest(http.MethodGet, "http://op.example/b", nil)
		if hc.CheckRedirect(to, []*http.Request{from}) == nil {
			t.Error("Config().HTTPClient follows a redirect from https to http")
		}
	}
	if cfg.Now == nil || cfg.Logger == nil {
		t.Errorf("Config() Now or Logger is nil: %v %v", cfg.Now == nil, cfg.Logger == nil)
	}
	if cfg.MaxBodyBytes != 1<<20 {
		t.Errorf("Config().MaxBodyBytes = %d, want the documented 1 MiB", cfg.MaxBodyBytes)
	}
	if d := time.Since(cfg.Now()); d < -time.Minute || d > time.Minute {
		t.Errorf("Config().Now() is %v away from time.Now", d)
	}
}
