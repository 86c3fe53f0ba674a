package exchange

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/pkjwt/pkjwt/internal/flight"
	"github.com/pkjwt/pkjwt/provider"
)

// defaultExpiryDelta is how long before its expiry a cached token is
// replaced, like x/oauth2's ReuseTokenSource.
const defaultExpiryDelta = 10 * time.Second

// TokenSource is an [oauth2.TokenSource] with the semantics of
// [oauth2.ReuseTokenSource]: it returns its cached token while that is valid
// (by the client's clock, minus the expiry delta) and otherwise fetches a new
// one from the token endpoint, with a freshly minted client assertion every
// time. A failed fetch is not retried with the same assertion; the next call
// fetches again, with a new one.
//
// One fetch is in flight at a time; concurrent callers wait for it or for
// their own context. No lock is held during network I/O.
//
// A TokenSource is safe for concurrent use.
type TokenSource struct {
	fetch func(ctx context.Context, cur *oauth2.Token) (*fetched, error)
	now   func() time.Time
	delta time.Duration
	hc    *http.Client     // base for Client
	dpop  *resourceBinding // nil without DPoP

	// guards t, id and flight
	mu     sync.Mutex
	t      *oauth2.Token
	id     *provider.IDToken
	flight flight.Group[tokenFetch]
}

// fetched is one fetch's result: the token and whatever else the grant
// yielded (a verified ID token for refreshes).
type fetched struct {
	token *oauth2.Token
	id    *provider.IDToken // the latest verified ID token of a refresh source
}

// tokenFetch is the result of one fetch shared with its waiters.
type tokenFetch struct {
	res *fetched
	// leaderCanceled reports that the fetch failed because the context of
	// the caller that ran it ended.
	leaderCanceled bool
}

var _ oauth2.TokenSource = (*TokenSource)(nil)

func newTokenSource(fetch func(context.Context, *oauth2.Token) (*fetched, error), t *oauth2.Token, now func() time.Time, delta time.Duration, hc *http.Client) *TokenSource {
	return &TokenSource{fetch: fetch, now: now, delta: delta, hc: hc, t: t}
}

// Token returns a valid token, fetching one if needed. It implements
// [oauth2.TokenSource], whose Token method takes no context: the fetch is
// bounded by the HTTP client's timeout only. Use [TokenSource.TokenContext]
// where a context is at hand.
func (s *TokenSource) Token() (*oauth2.Token, error) {
	return s.TokenContext(context.Background())
}

// TokenContext returns the cached token if it is valid and otherwise
// fetches one under ctx, which bounds both the wait for a fetch already in
// flight and a fetch of its own. Errors are those of the grant: a
// *[TokenError], ErrMalformedResponse, ErrNoRefreshToken,
// ErrIDTokenContinuity, ErrInvalidConfig for an invalid option, an
// assertion or provider error, or a context or network error.
func (s *TokenSource) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	return s.token(ctx, false)
}

// Refresh fetches a new token now, even if the cached one is still valid by
// the client's clock: after an API answered 401 (errors.Is ErrInvalidToken
// from [Client.UserInfo]), or to get fresh claims. The fetch is the
// source's grant with every check of a normal fetch (for a refresh source:
// the ID token's verification and continuity); on success the new token
// replaces the cached one. A fetch already in flight is joined rather than
// repeated: its token is newer than the caller's. A failed refresh keeps the
// cached token. Errors are those of [TokenSource.TokenContext].
func (s *TokenSource) Refresh(ctx context.Context) (*oauth2.Token, error) {
	return s.token(ctx, true)
}

// token returns the cached token unless force or it is invalid, and
// otherwise fetches (or joins the fetch in flight).
func (s *TokenSource) token(ctx context.Context, force bool) (*oauth2.Token, error) {
	for {
		s.mu.Lock()
		if !force && s.valid(s.t) {
			t := s.t
			s.mu.Unlock()
			return t, nil
		}
		if f := s.flight.Current(); f != nil {
			s.mu.Unlock()
			if err := f.Wait(ctx); err != nil {
				return nil, fmt.Errorf("exchange: waiting for a token fetch in flight: %w", err)
			}
			r, err := f.Result()
			if err != nil {
				// The leader's own context ended, not ours: fetch again,
				// which mints a new assertion. Any other failure (a
				// client timeout included) is shared, so that waiters do
				// not each repeat it in turn.
				if r.leaderCanceled && ctx.Err() == nil {
					continue
				}
				return nil, err
			}
			return r.res.token, nil
		}
		f := s.flight.Begin()
		cur := s.t
		s.mu.Unlock()

		res, err := s.fetch(ctx, cur)
		s.mu.Lock()
		if err == nil {
			s.t = res.token
			if res.id != nil {
				s.id = res.id
			}
		}
		s.flight.End(f, tokenFetch{res: res, leaderCanceled: err != nil && ctx.Err() != nil}, err)
		s.mu.Unlock()
		if err != nil {
			return nil, err
		}
		return res.token, nil
	}
}

// IDToken returns the latest verified ID token of a source made by
// [Client.RefreshTokenSource]: the original one until a refresh returns a
// new one. It returns nil for other sources.
func (s *TokenSource) IDToken() *provider.IDToken {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id
}

// valid reports whether t can be handed out: it has an access token and
// does not expire within the expiry delta. A token without an expiry is
// valid until replaced.
func (s *TokenSource) valid(t *oauth2.Token) bool {
	if t == nil || t.AccessToken == "" {
		return false
	}
	if t.Expiry.IsZero() {
		return true
	}
	return s.now().Before(t.Expiry.Add(-s.delta))
}

// Client returns an [http.Client] for calling APIs: it sends each request
// with "Authorization: Bearer <token>", the token taken from s under the
// request's context (a failed fetch fails the request before it is sent).
// base supplies the transport, timeout, redirect policy and cookie jar; nil
// means Config.HTTPClient of the [Client] that made s, or, when that is nil
// too, a client with a 30-second timeout and the default transport — never
// [http.DefaultClient] itself. Unlike token requests, API requests follow
// redirects as base does (net/http drops the Authorization header on a
// redirect to another host). A token of another type than Bearer or DPoP
// is not sent (ErrMalformedResponse).
//
// A DPoP-bound token — token_type DPoP in any letter case, or, from a
// [Client] with Config.DPoPKey, no token_type at all — goes as
// "Authorization: DPoP <token>" with a fresh proof carrying the token's
// hash (RFC 9449 §7), and only to the provider's own origin (issuer and
// UserInfo endpoint) and the origins of the WithResource indicators given
// when s was made; a request to any other origin fails before anything is
// sent (ErrInvalidConfig). A resource server's nonce challenge (401 with
// WWW-Authenticate: DPoP error="use_dpop_nonce") is answered once, with a
// new proof, when the request's body can be sent again (GetBody, as
// http.NewRequest sets for bytes and strings readers; otherwise
// ErrInvalidConfig); the nonce is remembered for the origin's later
// requests, so they need no extra round trip. A second challenge in a row
// is ErrMalformedResponse.
func (s *TokenSource) Client(base *http.Client) *http.Client {
	if base == nil {
		base = s.hc
	}
	var c http.Client
	if base != nil {
		c = *base
	} else {
		c.Timeout = defaultTimeout
	}
	c.Transport = &transport{src: s, base: c.Transport}
	return &c
}

// transport adds the bearer token to each request.
type transport struct {
	src  *TokenSource
	base http.RoundTripper
}

// RoundTrip gets a token under the request's context and sends a clone of
// the request with it.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := t.src.TokenContext(req.Context())
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	if dpopBound(tok, t.src.dpop != nil) {
		return t.src.dpop.roundTripDPoP(req, tok.AccessToken, base)
	}
	if !strings.EqualFold(tok.Type(), "Bearer") {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("exchange: the token source holds a token of type %s, neither Bearer nor DPoP; not sending it: %w", quote(truncate(tok.TokenType, 32)), errUnsupportedTokenType)
	}
	r2 := req.Clone(req.Context())
	r2.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	return base.RoundTrip(r2)
}
