package jwks

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkjwt/pkjwt/internal/clock"
	"github.com/pkjwt/pkjwt/internal/httpread"
)

// Errors of the remote set cache ([Remote]). Each error a Remote returns wraps
// one of these (or ErrSignature / ErrAlgorithmMismatch from verification).
var (
	// ErrUnknownKey: the remote set holds no usable key with the token's key
	// ID (or no key that fits its algorithm), after the refetch an unknown key
	// ID triggers, or while that refetch is cooling down (at most one per
	// RemoteConfig.MinInterval).
	ErrUnknownKey = errors.New("jwks: no usable key with this key ID in the remote set")
	// ErrFetch: the remote set could not be fetched (network error, timeout,
	// a status other than 200, an oversize or malformed body). It is wrapped
	// together with the cause: ErrBodyTooLarge, ErrMalformedSet, a context
	// error or a net error.
	ErrFetch = errors.New("jwks: remote set could not be fetched")
	// ErrBodyTooLarge: the response exceeded RemoteConfig.MaxBodyBytes. The
	// body is never truncated and used.
	ErrBodyTooLarge = errors.New("jwks: response body too large")
	// ErrMalformedSet: the response is not a JWK Set ({"keys":[…]}) or holds
	// more than RemoteConfig.MaxKeys keys. A single unusable key is skipped,
	// never reported as ErrMalformedSet.
	ErrMalformedSet = errors.New("jwks: malformed JWK set")
	// ErrStale: refreshing failed and the last good set is older than
	// RemoteConfig.MaxAge, so it is no longer served (fail closed).
	ErrStale = errors.New("jwks: remote set too old to use")
	// ErrMalformedJWS: the token given to [Remote.VerifySignature] is not a
	// well-formed compact JWS.
	ErrMalformedJWS = errors.New("jwks: malformed compact JWS")
	// ErrClosed: the Remote was closed.
	ErrClosed = errors.New("jwks: remote set closed")
)

// Defaults and ceilings of [RemoteConfig].
const (
	// MaxRemoteAge is the default and the ceiling of RemoteConfig.MaxAge:
	// a remote set is never used once it is older than one hour.
	MaxRemoteAge = time.Hour
	// DefaultMinInterval is the default RemoteConfig.MinInterval.
	DefaultMinInterval = time.Minute
	// DefaultRefreshAfter is the default RemoteConfig.RefreshAfter.
	DefaultRefreshAfter = 15 * time.Minute
	// DefaultMaxBodyBytes is the default RemoteConfig.MaxBodyBytes.
	DefaultMaxBodyBytes = 512 << 10
	// DefaultMaxKeys is the default RemoteConfig.MaxKeys.
	DefaultMaxKeys = 100
	// DefaultFetchTimeout is the default RemoteConfig.Timeout.
	DefaultFetchTimeout = 10 * time.Second

	// remoteMaxJWSBytes bounds a token given to Remote.VerifySignature.
	remoteMaxJWSBytes = 64 << 10
	// remoteMaxKeysTried bounds the keys tried for one token that has no kid.
	remoteMaxKeysTried = 4
)

// RemoteConfig holds the optional settings of a [Remote]. Every zero value
// has a safe default.
type RemoteConfig struct {
	// HTTPClient fetches the set. Nil means a client of this package with a
	// finite timeout (Timeout) that follows at most three redirects, only to
	// the same origin (never from https to http); never http.DefaultClient.
	// A client given here is used as it is.
	HTTPClient *http.Client
	// MaxAge is the oldest a set may be, counted from its fetch, and still be
	// used. A set older than this is never served: when it cannot be
	// refreshed, calls fail with ErrStale. Zero means one hour
	// (MaxRemoteAge); more than one hour is an error.
	MaxAge time.Duration
	// MinInterval is the cooldown of unknown-kid refetches: a key ID missing
	// from the set triggers a refetch at once unless another unknown-kid
	// refetch started less than MinInterval ago, whatever routine fetches
	// happened meanwhile. So the first token signed with a newly published
	// key is followed at once, and a flood of random key IDs costs at most
	// one fetch per MinInterval. It is also the floor of a Cache-Control
	// max-age (so routine refreshes are at least MinInterval apart) and the
	// delay before a routine fetch is retried after any fetch started, which
	// matters only after a failure. Zero means one minute
	// (DefaultMinInterval). It must not exceed MaxAge.
	MinInterval time.Duration
	// RefreshAfter is how long a set counts as fresh when the response has
	// no Cache-Control max-age. A response's max-age is honoured instead,
	// clamped to [MinInterval, MaxAge]. Between freshness and MaxAge the set
	// is still served while its next use refreshes it in the background;
	// a failed refresh is logged and retried after MinInterval. Zero means
	// 15 minutes (DefaultRefreshAfter).
	RefreshAfter time.Duration
	// MaxBodyBytes bounds the response body; a larger body is ErrFetch and
	// ErrBodyTooLarge, never a truncation. Zero means 512 KiB.
	MaxBodyBytes int64
	// MaxKeys bounds the number of keys in the set; more is ErrFetch and
	// ErrMalformedSet. Zero means 100.
	MaxKeys int
	// Timeout bounds one fetch, whatever the callers' contexts. Zero means
	// ten seconds (DefaultFetchTimeout).
	Timeout time.Duration
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Logger receives what no caller receives as an error: skipped keys and
	// a stale set served after a failed refresh. Nil discards.
	Logger *slog.Logger
}

// PublicKey is one usable verification key of a remote JWK Set.
type PublicKey struct {
	// KeyID is the JWK's "kid", possibly empty.
	KeyID string
	// Algorithm is the JWK's "alg", or empty when the JWK does not restrict
	// its algorithm (the key then fits every algorithm of its type).
	Algorithm Algorithm
	// Use is the JWK's "use": "sig" or empty.
	Use string
	// Key is *rsa.PublicKey, *ecdsa.PublicKey (P-256, P-384 or P-521) or
	// ed25519.PublicKey.
	Key crypto.PublicKey
}

// Fits reports whether the key may verify a signature made with alg: alg is
// a supported asymmetric algorithm, equal to the key's own Algorithm when it
// has one, and fits the key's type, curve and size.
func (k PublicKey) Fits(alg Algorithm) bool {
	if k.Algorithm != "" && k.Algorithm != alg {
		return false
	}
	return checkKey(k.Key, alg) == nil
}

// Remote is a cache of a remote JWK Set (RFC 7517 §5), such as an OpenID
// Provider's jwks_uri. It fetches lazily, inside the call of the first
// caller that needs keys, and:
//
//   - never uses a set older than MaxAge (one hour at most);
//   - honours the response's Cache-Control max-age within
//     [MinInterval, MaxAge]; past that freshness, a caller whose key is in
//     the set gets it at once while the set is refreshed in the background
//     (stale while revalidate, never beyond MaxAge);
//   - refetches at once when a key ID is not in the set, with
//     Cache-Control: no-cache, so that a provider may sign with a key the
//     moment it publishes it; these unknown-kid refetches, and only they,
//     are rate limited by each other: at most one starts per MinInterval,
//     and a routine refresh does not delay the next one. A flood of tokens
//     with random key IDs never becomes a flood of fetches;
//   - runs one fetch at a time: other callers wait for it or for their own
//     context;
//   - replaces the whole set on refresh (a removed key stops verifying) and
//     keeps the last good set after a failed refresh until MaxAge, then
//     fails closed with ErrStale;
//   - parses each key on its own and skips the ones it cannot or must not
//     use (unknown kty or crv, "oct" keys, use other than "sig", key_ops
//     without "verify", RSA below 2048 or above 8192 bits, an alg that does
//     not fit), keeping only public members.
//
// Its method set satisfies go-oidc's oidc.KeySet (VerifySignature). No lock
// is held over network I/O. A Remote is safe for concurrent use; Close stops
// a fetch in flight.
type Remote struct {
	url          string
	client       *http.Client
	maxAge       time.Duration
	minInterval  time.Duration
	refreshAfter time.Duration
	maxBody      int64
	maxKeys      int
	timeout      time.Duration
	now          func() time.Time
	log          *slog.Logger
	base         context.Context
	cancel       context.CancelFunc

	// cur is the current set; nil before the first successful fetch.
	cur atomic.Pointer[remoteSet]

	// guards flight, started, attempted, lastAttempt, refetched,
	// lastRefetch, lastErr and closed
	mu     sync.Mutex
	flight *remoteFlight
	// started counts the fetches started so far; a caller compares it with
	// its value on arrival to know whether a fetch started after it did.
	started uint64
	// attempted and lastAttempt: the start of the latest fetch of any kind
	// (the retry delay after a failed fetch).
	attempted   bool
	lastAttempt time.Time
	// refetched and lastRefetch: the start of the latest unknown-kid
	// refetch (the cooldown of unknown-kid refetches).
	refetched   bool
	lastRefetch time.Time
	lastErr     error
	closed      bool
}

// remoteFlight is the fetch in flight; done is closed when it ends. seq is
// the value of Remote.started once it began.
type remoteFlight struct {
	done chan struct{}
	seq  uint64
}

// remoteSet is an immutable parsed set.
type remoteSet struct {
	all        []PublicKey
	byKID      map[string][]PublicKey
	fetched    time.Time
	freshUntil time.Time
}

func (s *remoteSet) lookup(kid string) []PublicKey {
	if kid == "" {
		return s.all
	}
	return s.byKID[kid]
}

// NewRemote returns a cache of the JWK Set at jwksURL. It does no I/O: the
// first call that needs keys fetches them. jwksURL must be an absolute http
// or https URL (the caller decides whether plain http is acceptable; the
// provider package allows it only for loopback hosts). Invalid settings are
// reported together, joined with errors.Join.
func NewRemote(jwksURL string, cfg RemoteConfig) (*Remote, error) {
	var errs []error
	u, err := url.Parse(jwksURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, fmt.Errorf("jwks: JWKS URL %q is not an absolute http(s) URL", remoteShort(jwksURL)))
	}
	r := &Remote{
		url:          jwksURL,
		client:       cfg.HTTPClient,
		maxAge:       cfg.MaxAge,
		minInterval:  cfg.MinInterval,
		refreshAfter: cfg.RefreshAfter,
		maxBody:      cfg.MaxBodyBytes,
		maxKeys:      cfg.MaxKeys,
		timeout:      cfg.Timeout,
		now:          clock.Or(cfg.Now),
		log:          cfg.Logger,
	}
	if r.maxAge == 0 {
		r.maxAge = MaxRemoteAge
	}
	if r.minInterval == 0 {
		r.minInterval = DefaultMinInterval
	}
	if r.refreshAfter == 0 {
		r.refreshAfter = DefaultRefreshAfter
	}
	if r.maxBody == 0 {
		r.maxBody = DefaultMaxBodyBytes
	}
	if r.maxKeys == 0 {
		r.maxKeys = DefaultMaxKeys
	}
	if r.timeout == 0 {
		r.timeout = DefaultFetchTimeout
	}
	if r.maxAge < 0 || r.maxAge > MaxRemoteAge {
		errs = append(errs, fmt.Errorf("jwks: MaxAge %v is outside (0, %v]", r.maxAge, MaxRemoteAge))
	}
	if r.minInterval < 0 || r.minInterval > r.maxAge {
		errs = append(errs, fmt.Errorf("jwks: MinInterval %v is outside (0, MaxAge %v]", r.minInterval, r.maxAge))
	}
	if r.refreshAfter < 0 {
		errs = append(errs, fmt.Errorf("jwks: RefreshAfter %v is negative", r.refreshAfter))
	}
	if r.maxBody < 0 {
		errs = append(errs, fmt.Errorf("jwks: MaxBodyBytes %d is negative", r.maxBody))
	}
	if r.maxKeys < 0 {
		errs = append(errs, fmt.Errorf("jwks: MaxKeys %d is negative", r.maxKeys))
	}
	if r.timeout < 0 {
		errs = append(errs, fmt.Errorf("jwks: Timeout %v is negative", r.timeout))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if r.client == nil {
		r.client = &http.Client{Timeout: r.timeout, CheckRedirect: remoteRedirectPolicy}
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.base, r.cancel = context.WithCancel(context.Background())
	return r, nil
}

// remoteRedirectPolicy follows at most three redirects, each to the origin of
// the original request.
func remoteRedirectPolicy(req *http.Request, via []*http.Request) error {
	if len(via) >= 3 {
		return errors.New("jwks: more than 3 redirects")
	}
	o := via[0].URL
	if req.URL.Scheme != o.Scheme || req.URL.Host != o.Host {
		return errors.New("jwks: redirect to another origin refused")
	}
	return nil
}

// URL returns the JWK Set URL.
func (r *Remote) URL() string { return r.url }

// Close stops a fetch in flight and makes later calls fail with ErrClosed.
// It waits for the fetch goroutine to end. Close is idempotent.
func (r *Remote) Close() error {
	r.mu.Lock()
	r.closed = true
	f := r.flight
	r.mu.Unlock()
	r.cancel()
	if f != nil {
		<-f.done
	}
	return nil
}

// Keys returns the usable keys with key ID kid, or every usable key when kid
// is empty. It may fetch (see [Remote]); the call returns when the keys are
// known, the fetch in flight failed, or ctx is done. The slice is the
// caller's; the keys themselves are shared and must not be modified.
//
// Errors wrap ErrUnknownKey, ErrFetch (with ErrBodyTooLarge, ErrMalformedSet,
// a net or context error), ErrStale, ErrClosed, or ctx's error.
func (r *Remote) Keys(ctx context.Context, kid string) ([]PublicKey, error) {
	if s := r.cur.Load(); s != nil && r.now().Before(s.freshUntil) {
		if ks := s.lookup(kid); len(ks) > 0 {
			return append([]PublicKey(nil), ks...), nil
		}
	}
	ks, err := r.slow(ctx, kid)
	if err != nil {
		return nil, err
	}
	return append([]PublicKey(nil), ks...), nil
}

// slow is Keys when the fresh set does not hold kid. It fetches at most
// once per call of its own (or joins the fetch in flight), as follows:
//
//   - a set younger than MaxAge that holds kid is served at once; when it
//     is past its freshness, a routine refresh starts in the background
//     (stale while revalidate);
//   - a kid missing from a set younger than MaxAge starts an unknown-kid
//     refetch (Cache-Control: no-cache) unless one started less than
//     MinInterval ago; routine fetches do not count against that cooldown,
//     so a provider that signs with a key the moment it publishes it is
//     followed at once;
//   - otherwise no set, or one past its freshness, starts a routine fetch
//     unless a fetch started less than MinInterval ago (the retry delay
//     after a failure; after a success the set is fresh for at least
//     MinInterval);
//   - a caller who finds a fetch in flight waits for it. If that fetch
//     started before the caller arrived, its answer may predate the
//     caller's token, so the caller may then start a refetch of its own
//     (within the same limits); once a fetch that started after the caller
//     arrived has ended, the caller is served what the cache holds.
func (r *Remote) slow(ctx context.Context, kid string) ([]PublicKey, error) {
	r.mu.Lock()
	arrival := r.started
	r.mu.Unlock()
	settled := false // a fetch that started after arrival has ended
	for {
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			return nil, ErrClosed
		}
		now := r.now()
		s := r.cur.Load()
		var ks []PublicKey
		young, fresh := false, false
		if s != nil {
			ks = s.lookup(kid)
			young = now.Sub(s.fetched) < r.maxAge
			fresh = young && now.Before(s.freshUntil)
		}
		if fresh && len(ks) > 0 {
			r.mu.Unlock()
			return ks, nil
		}
		// A set past its freshness but younger than MaxAge that has the key
		// is served at once while it is refreshed in the background (stale
		// while revalidate): a slow provider never stalls verifications.
		usable := young && len(ks) > 0
		if f := r.flight; f != nil && (usable || !settled) {
			r.mu.Unlock()
			if usable {
				return ks, nil
			}
			if err := r.wait(ctx, f); err != nil {
				return nil, err
			}
			settled = f.seq > arrival
			continue
		}
		if r.started > arrival {
			settled = true
		}
		if !settled {
			unknownKid := young && len(ks) == 0
			refetch := unknownKid && r.cooled(r.refetched, r.lastRefetch, now)
			routine := !fresh && r.cooled(r.attempted, r.lastAttempt, now)
			if refetch || routine {
				r.started++
				f := &remoteFlight{done: make(chan struct{}), seq: r.started}
				r.flight = f
				r.attempted, r.lastAttempt = true, now
				if refetch {
					r.refetched, r.lastRefetch = true, now
				}
				lastGood := s
				r.mu.Unlock()
				go r.run(ctx, f, refetch, lastGood)
				if usable {
					return ks, nil
				}
				if err := r.wait(ctx, f); err != nil {
					return nil, err
				}
				settled = true
				continue
			}
		}
		lastErr := r.lastErr
		r.mu.Unlock()
		return r.serve(s, ks, now, kid, lastErr)
	}
}

// cooled reports whether MinInterval has passed since last (or there was
// no last, or the clock went back).
func (r *Remote) cooled(was bool, last, now time.Time) bool {
	return !was || now.Sub(last) >= r.minInterval || now.Before(last)
}

// serve decides what a caller gets when no (further) fetch is possible.
func (r *Remote) serve(s *remoteSet, ks []PublicKey, now time.Time, kid string, lastErr error) ([]PublicKey, error) {
	switch {
	case s == nil && lastErr != nil:
		return nil, lastErr
	case s == nil:
		return nil, fmt.Errorf("jwks: %s: no set fetched yet: %w", r.url, ErrFetch)
	case now.Sub(s.fetched) >= r.maxAge:
		if lastErr != nil {
			return nil, fmt.Errorf("jwks: %s: set fetched %v ago, refresh failed: %w: %w", r.url, now.Sub(s.fetched).Round(time.Second), ErrStale, lastErr)
		}
		return nil, fmt.Errorf("jwks: %s: set fetched %v ago: %w", r.url, now.Sub(s.fetched).Round(time.Second), ErrStale)
	case len(ks) == 0:
		return nil, fmt.Errorf("jwks: key ID %q: %w", remoteShort(kid), ErrUnknownKey)
	}
	return ks, nil
}

func (r *Remote) wait(ctx context.Context, f *remoteFlight) error {
	select {
	case <-f.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("jwks: waiting for %s: %w", r.url, ctx.Err())
	}
}

// run performs one fetch on its own goroutine, so that the caller who
// started it may give up (its context) without failing the other waiters.
// The fetch is bounded by r.timeout and stopped by Close.
func (r *Remote) run(parent context.Context, f *remoteFlight, noCache bool, lastGood *remoteSet) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), r.timeout)
	stop := context.AfterFunc(r.base, cancel)
	set, err := r.fetch(ctx, noCache)
	stop()
	cancel()
	r.mu.Lock()
	if err == nil {
		r.cur.Store(set)
		r.lastErr = nil
	} else {
		r.lastErr = err
		if lastGood != nil {
			r.log.Warn("jwks: refresh failed; the last good set is kept until it reaches its maximum age",
				slog.String("jwks_url", r.url), slog.String("error", err.Error()),
				slog.Time("fetched", lastGood.fetched), slog.Duration("max_age", r.maxAge))
		}
	}
	r.flight = nil
	r.mu.Unlock()
	close(f.done)
}

func (r *Remote) fetch(ctx context.Context, noCache bool) (*remoteSet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return nil, fmt.Errorf("jwks: fetch %s: %v: %w", r.url, err, ErrFetch)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	if noCache {
		req.Header.Set("Cache-Control", "no-cache")
	}
	resp, err := r.client.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("jwks: fetch %s: %w: %w", r.url, ErrFetch, ctxErr)
		}
		return nil, fmt.Errorf("jwks: fetch %s: %w: %w", r.url, ErrFetch, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("jwks: fetch %s: status %d: %w", r.url, resp.StatusCode, ErrFetch)
	}
	body, err := httpread.All(resp.Body, r.maxBody)
	if err != nil {
		if errors.Is(err, httpread.ErrTooLarge) {
			return nil, fmt.Errorf("jwks: fetch %s: body exceeds %d bytes: %w: %w", r.url, r.maxBody, ErrFetch, ErrBodyTooLarge)
		}
		return nil, fmt.Errorf("jwks: fetch %s: reading body: %w: %w", r.url, ErrFetch, err)
	}
	keys, skipped, err := parseRemoteSet(body, r.maxKeys)
	if err != nil {
		return nil, fmt.Errorf("jwks: fetch %s: %w: %w", r.url, ErrFetch, err)
	}
	for _, s := range skipped {
		r.log.Info("jwks: key skipped", slog.String("jwks_url", r.url), slog.String("kid", s.kid), slog.String("reason", s.reason))
	}
	now := r.now()
	ttl := r.refreshAfter
	if ma, ok := cacheMaxAge(resp.Header); ok {
		ttl = ma
	}
	ttl = min(max(ttl, r.minInterval), r.maxAge)
	set := &remoteSet{all: keys, byKID: make(map[string][]PublicKey, len(keys)), fetched: now, freshUntil: now.Add(ttl)}
	for _, k := range keys {
		if k.KeyID != "" {
			set.byKID[k.KeyID] = append(set.byKID[k.KeyID], k)
		}
	}
	return set, nil
}

// maxAge reads the max-age directive of Cache-Control. no-cache and
// no-store read as zero (the floor, MinInterval, then applies).
func cacheMaxAge(h http.Header) (time.Duration, bool) {
	var out time.Duration
	found := false
	for _, line := range h.Values("Cache-Control") {
		for d := range strings.SplitSeq(line, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
			switch strings.ToLower(name) {
			case "no-cache", "no-store":
				return 0, true
			case "max-age":
				n, err := strconv.ParseInt(strings.Trim(val, `"`), 10, 64)
				if err != nil || n < 0 {
					continue
				}
				if n > int64(MaxRemoteAge/time.Second) {
					n = int64(MaxRemoteAge / time.Second)
				}
				out, found = time.Duration(n)*time.Second, true
			}
		}
	}
	return out, found
}

// remoteSkipped records why a key of a remote set was not used.
type remoteSkipped struct{ kid, reason string }

// remoteJWK holds the members of a public JWK this package reads. Private
// members (d, p, q, dp, dq, qi, oth, k) are never read.
type remoteJWK struct {
	Kty    string   `json:"kty"`
	Kid    string   `json:"kid"`
	Use    string   `json:"use"`
	Alg    string   `json:"alg"`
	KeyOps []string `json:"key_ops"`
	Crv    string   `json:"crv"`
	N      string   `json:"n"`
	E      string   `json:"e"`
	X      string   `json:"x"`
	Y      string   `json:"y"`
}

// parseRemoteSet parses a JWK Set document. A document that is not a JSON
// object with a "keys" array, or holds more than maxKeys keys, is
// ErrMalformedSet; each key is then parsed on its own and skipped (with a
// reason) when unusable.
func parseRemoteSet(body []byte, maxKeys int) ([]PublicKey, []remoteSkipped, error) {
	var doc struct {
		Keys *[]json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, nil, fmt.Errorf("jwks: the document is not a JWK set object: %w", ErrMalformedSet)
	}
	if doc.Keys == nil {
		return nil, nil, fmt.Errorf("jwks: the document has no \"keys\" array: %w", ErrMalformedSet)
	}
	raw := *doc.Keys
	if len(raw) > maxKeys {
		return nil, nil, fmt.Errorf("jwks: the set holds %d keys, more than the limit of %d: %w", len(raw), maxKeys, ErrMalformedSet)
	}
	var keys []PublicKey
	var skipped []remoteSkipped
	for _, m := range raw {
		k, kid, reason := parsePublicJWK(m)
		if reason != "" {
			skipped = append(skipped, remoteSkipped{kid: remoteShort(kid), reason: reason})
			continue
		}
		keys = append(keys, k)
	}
	return keys, skipped, nil
}

var remoteB64 = base64.RawURLEncoding.Strict()

// decodeRemoteB64 decodes unpadded base64url, refusing any byte outside the
// alphabet (the standard decoder skips line breaks).
func decodeRemoteB64(s string) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		if !isRemoteB64(s[i]) {
			return nil, false
		}
	}
	b, err := remoteB64.DecodeString(s)
	return b, err == nil
}

func isRemoteB64(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

var remoteCurves = map[string]struct {
	curve elliptic.Curve
	size  int
}{
	"P-256": {elliptic.P256(), 32},
	"P-384": {elliptic.P384(), 48},
	"P-521": {elliptic.P521(), 66},
}

// parsePublicJWK parses one public JWK. It returns a non-empty reason when
// the key is unusable.
func parsePublicJWK(m json.RawMessage) (PublicKey, string, string) {
	var j remoteJWK
	if err := json.Unmarshal(m, &j); err != nil {
		return PublicKey{}, "", "not a JWK object with string members"
	}
	k := PublicKey{KeyID: j.Kid, Use: j.Use, Algorithm: Algorithm(j.Alg)}
	if j.Use != "" && j.Use != "sig" {
		return k, j.Kid, fmt.Sprintf("use %q is not \"sig\"", remoteShort(j.Use))
	}
	if j.KeyOps != nil {
		verify := false
		for _, op := range j.KeyOps {
			verify = verify || op == "verify"
		}
		if !verify {
			return k, j.Kid, "key_ops does not include \"verify\""
		}
	}
	if j.Alg != "" && (IsSymmetricOrNone(j.Alg) || !k.Algorithm.Supported()) {
		return k, j.Kid, fmt.Sprintf("alg %q is not a supported asymmetric algorithm", remoteShort(j.Alg))
	}
	switch j.Kty {
	case "RSA":
		n, ok1 := decodeRemoteB64(j.N)
		e, ok2 := decodeRemoteB64(j.E)
		if !ok1 || !ok2 || len(n) == 0 || len(e) == 0 || len(e) > 4 {
			return k, j.Kid, "RSA members n and e are missing or malformed"
		}
		if len(n) > MaxRSABits/8+1 {
			return k, j.Kid, "RSA modulus above 8192 bits"
		}
		var ev int64
		for _, b := range e {
			ev = ev<<8 | int64(b)
		}
		if ev < 3 || ev%2 == 0 || ev > 1<<31-1 {
			return k, j.Kid, "RSA exponent is not an odd number in [3, 2^31)"
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(ev)}
		if pub.N.BitLen() < MinRSABits {
			return k, j.Kid, fmt.Sprintf("RSA key of %d bits, below %d", pub.N.BitLen(), MinRSABits)
		}
		if pub.N.BitLen() > MaxRSABits {
			return k, j.Kid, fmt.Sprintf("RSA key of %d bits, above %d", pub.N.BitLen(), MaxRSABits)
		}
		if pub.N.Bit(0) == 0 {
			return k, j.Kid, "RSA modulus is even"
		}
		k.Key = pub
	case "EC":
		c, ok := remoteCurves[j.Crv]
		if !ok {
			return k, j.Kid, fmt.Sprintf("EC curve %q is not P-256, P-384 or P-521", remoteShort(j.Crv))
		}
		x, ok1 := decodeRemoteB64(j.X)
		y, ok2 := decodeRemoteB64(j.Y)
		if !ok1 || !ok2 || len(x) != c.size || len(y) != c.size {
			return k, j.Kid, "EC members x and y are missing, malformed or not of the curve's size"
		}
		pt := make([]byte, 0, 1+2*c.size)
		pt = append(append(append(pt, 4), x...), y...)
		pub, err := ecdsa.ParseUncompressedPublicKey(c.curve, pt)
		if err != nil {
			return k, j.Kid, "EC point is not on the curve"
		}
		k.Key = pub
	case "OKP":
		if j.Crv != "Ed25519" {
			return k, j.Kid, fmt.Sprintf("OKP curve %q is not Ed25519", remoteShort(j.Crv))
		}
		x, ok := decodeRemoteB64(j.X)
		if !ok || len(x) != ed25519.PublicKeySize {
			return k, j.Kid, "Ed25519 member x is missing or malformed"
		}
		k.Key = ed25519.PublicKey(x)
	case "oct":
		return k, j.Kid, "symmetric (oct) key"
	default:
		return k, j.Kid, fmt.Sprintf("kty %q is not RSA, EC or OKP", remoteShort(j.Kty))
	}
	if k.Algorithm != "" {
		if err := checkKey(k.Key, k.Algorithm); err != nil {
			return k, j.Kid, fmt.Sprintf("alg %s does not fit the key", k.Algorithm)
		}
	}
	return k, j.Kid, ""
}

// remoteJWSHeader holds the protected header members VerifySignature reads.
// jku, x5u, jwk and x5c are never read: keys come only from the set.
type remoteJWSHeader struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Crit json.RawMessage `json:"crit"`
}

// VerifySignature verifies the signature of a compact JWS with the keys of
// the remote set and returns its decoded payload, as go-oidc's oidc.KeySet
// requires. The key is chosen by the header's kid (a refetch may happen, see
// [Remote]) and must fit the header's alg; without kid, at most four keys
// that fit are tried. "none" and HMAC algorithms are refused, as is any
// "crit" header; jku, x5u, jwk and x5c are ignored. It verifies the
// signature only: claims (iss, aud, exp…) are the caller's to check.
//
// Errors wrap ErrMalformedJWS, ErrAlgorithmMismatch, ErrSignature and those
// of [Remote.Keys].
func (r *Remote) VerifySignature(ctx context.Context, jws string) ([]byte, error) {
	if len(jws) > remoteMaxJWSBytes {
		return nil, fmt.Errorf("jwks: token of %d bytes exceeds %d: %w", len(jws), remoteMaxJWSBytes, ErrMalformedJWS)
	}
	h, p, ok := strings.Cut(jws, ".")
	if !ok {
		return nil, fmt.Errorf("jwks: token is not compact serialization: %w", ErrMalformedJWS)
	}
	p, s, ok := strings.Cut(p, ".")
	if !ok || strings.Contains(s, ".") {
		return nil, fmt.Errorf("jwks: token does not have three segments: %w", ErrMalformedJWS)
	}
	hb, ok1 := decodeRemoteB64(h)
	pb, ok2 := decodeRemoteB64(p)
	sig, ok3 := decodeRemoteB64(s)
	if !ok1 || !ok2 || !ok3 {
		return nil, fmt.Errorf("jwks: token segment is not base64url: %w", ErrMalformedJWS)
	}
	var hdr remoteJWSHeader
	if err := json.Unmarshal(hb, &hdr); err != nil {
		return nil, fmt.Errorf("jwks: token header is not a JSON object: %w", ErrMalformedJWS)
	}
	if hdr.Crit != nil {
		return nil, fmt.Errorf("jwks: token header has \"crit\", which is not supported: %w", ErrMalformedJWS)
	}
	alg := Algorithm(hdr.Alg)
	if IsSymmetricOrNone(hdr.Alg) || !alg.Supported() {
		return nil, fmt.Errorf("jwks: token algorithm %q refused: %w", remoteShort(hdr.Alg), ErrAlgorithmMismatch)
	}
	keys, err := r.Keys(ctx, hdr.Kid)
	if err != nil {
		return nil, err
	}
	input := []byte(jws[:len(h)+1+len(p)])
	tried := 0
	for _, k := range keys {
		if !k.Fits(alg) {
			continue
		}
		if tried++; tried > remoteMaxKeysTried {
			break
		}
		if VerifySignature(k.Key, alg, input, sig) == nil {
			return pb, nil
		}
	}
	if tried == 0 {
		return nil, fmt.Errorf("jwks: no key with key ID %q fits algorithm %s: %w", remoteShort(hdr.Kid), alg, ErrUnknownKey)
	}
	return nil, ErrSignature
}

// shorten bounds an untrusted string for an error message.
func remoteShort(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
