package jwks

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkjwt/pkjwt/internal/clock"
	"github.com/pkjwt/pkjwt/internal/flight"
	"github.com/pkjwt/pkjwt/internal/httppolicy"
)

// Errors of the remote set cache ([Remote]). Each error a Remote returns wraps
// one of these (or ErrSignature from [Remote.VerifySignature]).
var (
	// ErrUnknownKey: the remote set holds no usable key with the token's key
	// ID (or no key that fits its algorithm), after the refetch an unknown key
	// ID triggers, or while that refetch is cooling down (at most one per
	// RemoteConfig.MinInterval).
	ErrUnknownKey = errors.New("jwks: no usable key with this key ID in the remote set")
	// ErrFetch: no usable set is available: it could not be fetched (network
	// error, timeout, a status other than 200, a body larger than
	// RemoteConfig.MaxBodyBytes, a document that is not a JWK Set or holds
	// more than RemoteConfig.MaxKeys keys), the last good set is older than
	// RemoteConfig.MaxAge and refreshing failed (fail closed), or the Remote
	// was closed. A context or net error that caused it is wrapped too. A
	// single unusable key in a set is skipped, never reported.
	ErrFetch = errors.New("jwks: remote set could not be fetched")
)

// The precise causes behind ErrFetch, kept apart for this package's tests.
// Each is wrapped next to ErrFetch, as httpread.ErrTooLarge is for an
// oversize body.
var (
	errMalformedSet = errors.New("jwks: malformed JWK set")
	errStale        = errors.New("jwks: remote set too old to use")
	errClosed       = errors.New("jwks: remote set closed")
)

// Defaults and ceilings of [RemoteConfig].
const (
	// maxRemoteAge is the default and the ceiling of RemoteConfig.MaxAge:
	// a remote set is never used once it is older than one hour.
	maxRemoteAge        = time.Hour
	defaultMinInterval  = time.Minute
	defaultRefreshAfter = 15 * time.Minute
	defaultMaxBodyBytes = 512 << 10
	defaultMaxKeys      = 100
	defaultFetchTimeout = 10 * time.Second
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
	// refreshed, calls fail with ErrFetch. Zero means one hour;
	// more than one hour is an error.
	MaxAge time.Duration
	// MinInterval is the cooldown of unknown-kid refetches: a key ID missing
	// from the set triggers a refetch at once unless another unknown-kid
	// refetch started less than MinInterval ago, whatever routine fetches
	// happened meanwhile. So the first token signed with a newly published
	// key is followed at once, and a flood of random key IDs costs at most
	// one fetch per MinInterval. It is also the floor of a Cache-Control
	// max-age (so routine refreshes are at least MinInterval apart) and the
	// delay before a routine fetch is retried after any fetch started, which
	// matters only after a failure. Zero means one minute. It
	// must not exceed MaxAge.
	MinInterval time.Duration
	// RefreshAfter is how long a set counts as fresh when the response has
	// no Cache-Control max-age. A response's max-age is honoured instead,
	// clamped to [MinInterval, MaxAge]. Between freshness and MaxAge the set
	// is still served while its next use refreshes it in the background;
	// a failed refresh is logged and retried after MinInterval. Zero means
	// 15 minutes.
	RefreshAfter time.Duration
	// MaxBodyBytes bounds the response body; a larger body is ErrFetch, never
	// a truncation. Zero means 512 KiB.
	MaxBodyBytes int64
	// MaxKeys bounds the number of keys in the set; more is ErrFetch. Zero
	// means 100.
	MaxKeys int
	// Timeout bounds one fetch, whatever the callers' contexts. Zero means
	// ten seconds.
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
//     fails closed with ErrFetch;
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

	// guards flight, attempted, lastAttempt, refetched, lastRefetch,
	// lastErr and closed
	mu sync.Mutex
	// flight is the fetch in flight; its results go to cur and lastErr. A
	// caller compares flight.Seq() with its value on arrival to know whether
	// a fetch started after it arrived.
	flight flight.Group[struct{}]
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
// reported together, joined with errors.Join, each wrapping ErrInvalidConfig.
func NewRemote(jwksURL string, cfg RemoteConfig) (*Remote, error) {
	var errs []error
	u, err := url.Parse(jwksURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, fmt.Errorf("jwks: JWKS URL %q is not an absolute http(s) URL: %w", remoteShort(jwksURL), ErrInvalidConfig))
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
		r.maxAge = maxRemoteAge
	}
	if r.minInterval == 0 {
		r.minInterval = defaultMinInterval
	}
	if r.refreshAfter == 0 {
		r.refreshAfter = defaultRefreshAfter
	}
	if r.maxBody == 0 {
		r.maxBody = defaultMaxBodyBytes
	}
	if r.maxKeys == 0 {
		r.maxKeys = defaultMaxKeys
	}
	if r.timeout == 0 {
		r.timeout = defaultFetchTimeout
	}
	if r.maxAge < 0 || r.maxAge > maxRemoteAge {
		errs = append(errs, fmt.Errorf("jwks: MaxAge %v is outside (0, %v]: %w", r.maxAge, maxRemoteAge, ErrInvalidConfig))
	}
	if r.minInterval < 0 || r.minInterval > r.maxAge {
		errs = append(errs, fmt.Errorf("jwks: MinInterval %v is outside (0, MaxAge %v]: %w", r.minInterval, r.maxAge, ErrInvalidConfig))
	}
	if r.refreshAfter < 0 {
		errs = append(errs, fmt.Errorf("jwks: RefreshAfter %v is negative: %w", r.refreshAfter, ErrInvalidConfig))
	}
	if r.maxBody < 0 {
		errs = append(errs, fmt.Errorf("jwks: MaxBodyBytes %d is negative: %w", r.maxBody, ErrInvalidConfig))
	}
	if r.maxKeys < 0 {
		errs = append(errs, fmt.Errorf("jwks: MaxKeys %d is negative: %w", r.maxKeys, ErrInvalidConfig))
	}
	if r.timeout < 0 {
		errs = append(errs, fmt.Errorf("jwks: Timeout %v is negative: %w", r.timeout, ErrInvalidConfig))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if r.client == nil {
		r.client = httppolicy.New(r.timeout, httppolicy.SameOrigin(remoteMaxRedirects))
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.base, r.cancel = context.WithCancel(context.Background())
	return r, nil
}

// Close stops a fetch in flight and makes later calls fail with ErrFetch.
// It waits for the fetch goroutine to end. Close is idempotent.
func (r *Remote) Close() error {
	r.mu.Lock()
	r.closed = true
	f := r.flight.Current()
	r.mu.Unlock()
	r.cancel()
	if f != nil {
		<-f.Done()
	}
	return nil
}

// Keys returns the usable keys with key ID kid, or every usable key when kid
// is empty. It may fetch (see [Remote]); the call returns when the keys are
// known, the fetch in flight failed, or ctx is done. The slice is the
// caller's; the keys themselves are shared and must not be modified.
//
// Errors wrap ErrUnknownKey, ErrFetch (with a net or context error that
// caused it), or ctx's error.
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
	arrival := r.flight.Seq()
	r.mu.Unlock()
	settled := false // a fetch that started after arrival has ended
	for {
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			return nil, fmt.Errorf("%w: %w", ErrFetch, errClosed)
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
		if f := r.flight.Current(); f != nil && (usable || !settled) {
			r.mu.Unlock()
			if usable {
				return ks, nil
			}
			if err := r.wait(ctx, f); err != nil {
				return nil, err
			}
			settled = f.Seq() > arrival
			continue
		}
		if r.flight.Seq() > arrival {
			settled = true
		}
		if !settled {
			unknownKid := young && len(ks) == 0
			refetch := unknownKid && r.cooled(r.refetched, r.lastRefetch, now)
			routine := !fresh && r.cooled(r.attempted, r.lastAttempt, now)
			if refetch || routine {
				f := r.flight.Begin()
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
			// lastErr, from fetch, wraps ErrFetch.
			return nil, fmt.Errorf("jwks: %s: set fetched %v ago, refresh failed: %w: %w", r.url, now.Sub(s.fetched).Round(time.Second), errStale, lastErr)
		}
		return nil, fmt.Errorf("jwks: %s: set fetched %v ago: %w: %w", r.url, now.Sub(s.fetched).Round(time.Second), ErrFetch, errStale)
	case len(ks) == 0:
		return nil, fmt.Errorf("jwks: key ID %q: %w", remoteShort(kid), ErrUnknownKey)
	}
	return ks, nil
}

func (r *Remote) wait(ctx context.Context, f *flight.Call[struct{}]) error {
	if err := f.Wait(ctx); err != nil {
		return fmt.Errorf("jwks: waiting for %s: %w", r.url, err)
	}
	return nil
}

// run performs one fetch on its own goroutine, so that the caller who
// started it may give up (its context) without failing the other waiters.
// The fetch is bounded by r.timeout and stopped by Close.
func (r *Remote) run(parent context.Context, f *flight.Call[struct{}], noCache bool, lastGood *remoteSet) {
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
	r.flight.End(f, struct{}{}, err)
	r.mu.Unlock()
}

// shorten bounds an untrusted string for an error message.
func remoteShort(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
