package provider

import "net/http"

// Config returns the settings p applies, so that a package talking to the
// same provider (exchange.New) uses the same HTTP client, clock and logger
// without the application setting them twice. Defaults are filled in:
//
//   - HTTPClient is a new copy of the client p sends its requests with: the
//     caller's Transport (http.DefaultTransport when none was set), cookie
//     jar and redirect policy (same origin only, then the caller's), and a
//     Timeout of 10 s when none was set. It does not bound
//     response bodies: whoever uses it applies its own limit, and
//     MaxBodyBytes says p's. Changing the copy has no effect on p.
//   - Now is p's clock, never nil.
//   - Logger is p's logger, never nil (a discarding one by default).
//   - MaxBodyBytes is p's limit, 1 MiB by default.
//   - InsecureSkipClientAuthCheck is as given to [Discover].
//
// ClientAuthAlgorithm and KeySet serve discovery and the key cache only and
// are not kept: they are zero here. Config does no I/O.
func (p *Provider) Config() Config {
	hc := *p.shared
	if hc.Transport == nil {
		hc.Transport = http.DefaultTransport
	}
	return Config{
		HTTPClient:                  &hc,
		Now:                         p.now,
		Logger:                      p.log,
		MaxBodyBytes:                p.limit,
		InsecureSkipClientAuthCheck: p.skipCAC,
	}
}
