package exchange

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"golang.org/x/oauth2"

	"github.com/pkjwt/pkjwt/assertion"
)

// DPoP limits.
const (
	// maxDPoPNonce bounds a DPoP-Nonce header; a longer one is an error.
	maxDPoPNonce = 1 << 10
	// maxNonceOrigins bounds the origins whose nonce is remembered; when
	// full, the memory starts over (a forgotten nonce costs one challenge).
	maxNonceOrigins = 64
	// codeUseDPoPNonce is the error code of a nonce challenge (RFC 9449 §8).
	codeUseDPoPNonce = "use_dpop_nonce"
)

// dpopState is a Client's DPoP key and the nonces servers gave it, per
// origin. It is shared by the Client and its token sources.
type dpopState struct {
	proofs *assertion.DPoP

	// guards nonces
	mu     sync.Mutex
	nonces map[string]string
}

func newDPoPState(p *assertion.DPoP) *dpopState {
	return &dpopState{proofs: p, nonces: map[string]string{}}
}

// nonce returns the nonce last given by the origin of target, or "".
func (d *dpopState) nonce(target string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.nonces[originOf(target)]
}

// remember stores the DPoP-Nonce of h for the origin of target and reports
// whether h carried a nonce other than the one the request used. A nonce
// over 1 KiB, or with characters RFC 9449 §8.1 does not allow, is
// ErrMalformedResponse (and nothing is remembered).
func (d *dpopState) remember(target, used string, h http.Header) (bool, error) {
	v := h.Values("DPoP-Nonce")
	if len(v) == 0 {
		return false, nil
	}
	n := v[0]
	if len(v) > 1 || len(n) > maxDPoPNonce || n == "" || strings.ContainsFunc(n, func(r rune) bool {
		return r < 0x21 || r > 0x7e || r == '"' || r == '\\'
	}) {
		return false, fmt.Errorf("exchange: %s sent a DPoP-Nonce header that is repeated, empty, longer than %d bytes or not RFC 9449 nonce text: %w", redactURL(target), maxDPoPNonce, errBadDPoPNonce)
	}
	o := originOf(target)
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.nonces[o]; !ok && len(d.nonces) >= maxNonceOrigins {
		clear(d.nonces)
	}
	d.nonces[o] = n
	return n != used, nil
}

// proof mints a proof for method and target with the origin's nonce; it
// returns the nonce used too.
func (d *dpopState) proof(ctx context.Context, method, target, accessToken string) (proof, nonce string, err error) {
	nonce = d.nonce(target)
	proof, err = d.proofs.Proof(ctx, method, target, nonce, accessToken)
	if err != nil {
		return "", "", fmt.Errorf("exchange: DPoP proof: %w", err)
	}
	return proof, nonce, nil
}

// originOf returns the RFC 6454 origin of s (scheme and host in lower case,
// default port dropped), or "" when s is not an absolute URL.
func originOf(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return urlOrigin(u)
}

func urlOrigin(u *url.URL) string {
	if u.Scheme == "" || u.Host == "" {
		return ""
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	if scheme == "https" {
		host = strings.TrimSuffix(host, ":443")
	} else if scheme == "http" {
		host = strings.TrimSuffix(host, ":80")
	}
	return scheme + "://" + host
}

// isNonceChallenge reports whether err is a token or PAR endpoint's
// use_dpop_nonce answer (RFC 9449 §8).
func isNonceChallenge(err error) bool {
	var te *TokenError
	return errors.As(err, &te) && te.Code == codeUseDPoPNonce
}

// sendAuthenticated posts form to ep with a freshly minted client assertion
// and, with DPoP, a fresh proof, and hands the answer to parse. A
// use_dpop_nonce answer that carries a new DPoP-Nonce is retried exactly
// once, with a new assertion and a new proof carrying the nonce (RFC 9449
// §8): the first assertion's jti may be spent. A second challenge in a row
// is returned as an error. secrets are the values of form that must never
// appear in an error.
func (c *Client) sendAuthenticated(ctx context.Context, ep *endpoint, form url.Values, secrets []string, parse func(status int, body []byte, secrets []string) error) error {
	for attempt := 0; ; attempt++ {
		a, err := c.clientAssertion(ctx)
		if err != nil {
			return err
		}
		form.Set("client_id", c.clientID)
		form.Set("client_assertion_type", assertion.ClientAssertionType)
		form.Set("client_assertion", a)
		sec := append(secrets[:len(secrets):len(secrets)], a)
		var hdr http.Header
		var used string
		if c.dpop != nil {
			var proof string
			proof, used, err = c.dpop.proof(ctx, http.MethodPost, ep.url, "")
			if err != nil {
				return err
			}
			hdr = http.Header{"Dpop": {proof}}
			sec = append(sec, proof)
		}
		status, h, body, err := ep.do(ctx, form, hdr)
		if err != nil {
			return err
		}
		fresh := false
		if c.dpop != nil {
			if fresh, err = c.dpop.remember(ep.url, used, h); err != nil {
				return err
			}
		}
		err = parse(status, body, sec)
		if c.dpop == nil || !isNonceChallenge(err) {
			return err
		}
		switch {
		case !fresh:
			return fmt.Errorf("exchange: %s demanded a DPoP nonce without giving a new one in DPoP-Nonce: %w: %w", redactURL(ep.url), errDPoPNonceLoop, err)
		case attempt > 0:
			return fmt.Errorf("exchange: %s demanded a DPoP nonce a second time in a row; not retrying again: %w: %w", redactURL(ep.url), errDPoPNonceLoop, err)
		}
	}
}

// checkTokenType refuses a token type this package cannot send: Bearer
// without DPoP, DPoP when a proof was sent (RFC 9449 §5: a Bearer answer to
// a proof would be a silent downgrade). Types compare in any letter case.
// N_A is accepted only where allowNA (a token exchange) and the
// issued_token_type is not an access token (RFC 8693 §2.2.1): an access
// token of type N_A after a proof would be a silent downgrade too.
func checkTokenType(r *tokenResponse, allowNA bool) error {
	tt := r.token.TokenType
	want := "Bearer"
	if r.dpop {
		want = "DPoP"
	}
	switch {
	case allowNA && r.issuedTokenType != TokenTypeAccessToken && strings.EqualFold(tt, "N_A"):
		r.token.TokenType = "N_A"
		return nil
	case strings.EqualFold(tt, want):
		r.token.TokenType = want
		return nil
	case r.dpop:
		return fmt.Errorf("exchange: token endpoint issued token_type %s to a request with a DPoP proof, want DPoP; a bearer token would be a silent downgrade (RFC 9449 §5): %w", quote(truncate(tt, 32)), errUnsupportedTokenType)
	}
	return fmt.Errorf("exchange: token endpoint issued token_type %s, want Bearer: %w", quote(truncate(tt, 32)), errUnsupportedTokenType)
}

// dpopBound reports whether tok may only be sent with a DPoP proof: its
// token_type is DPoP in any letter case (RFC 6749 §5.1 makes the type
// case-insensitive), or it has none and the client has a DPoP key (hasKey),
// whose tokens are bound unless the server said otherwise.
func dpopBound(tok *oauth2.Token, hasKey bool) bool {
	return strings.EqualFold(tok.TokenType, "DPoP") || hasKey && tok.TokenType == ""
}

// resourceBinding is what a TokenSource needs to send DPoP-bound tokens: the
// Client's key and nonces, and the origins the tokens may go to.
type resourceBinding struct {
	st      *dpopState
	origins map[string]bool
}

// binding returns the resource binding of a token source made with o, or
// nil without DPoP: the origins of o's resource indicators (RFC 8707) and
// the provider's own (issuer and UserInfo endpoint).
func (c *Client) binding(o options) *resourceBinding {
	if c.dpop == nil {
		return nil
	}
	b := &resourceBinding{st: c.dpop, origins: map[string]bool{}}
	for _, s := range append([]string{c.issuer, c.userInfoURL}, o.resources...) {
		if org := originOf(s); org != "" {
			b.origins[org] = true
		}
	}
	return b
}

// roundTripDPoP sends req with the DPoP-bound access token at and a proof
// carrying its hash (RFC 9449 §7.1). A resource server's nonce challenge
// (401 with WWW-Authenticate: DPoP error="use_dpop_nonce" and a
// DPoP-Nonce) is answered once, with a new proof, when the body can be
// replayed; a second challenge in a row is an error.
func (b *resourceBinding) roundTripDPoP(req *http.Request, at string, base http.RoundTripper) (*http.Response, error) {
	fail := func(err error) (*http.Response, error) {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	if b == nil {
		return fail(fmt.Errorf("exchange: the token source holds a DPoP-bound token but no DPoP key: %w", errUnsupportedTokenType))
	}
	target := req.URL.String()
	if !b.origins[urlOrigin(req.URL)] {
		return fail(fmt.Errorf("exchange: refusing to send a DPoP-bound token to %s, an origin the token source was not given with WithResource: %w", redactURL(target), errDPoPOrigin))
	}
	for attempt := 0; ; attempt++ {
		proof, used, err := b.st.proof(req.Context(), req.Method, target, at)
		if err != nil {
			return fail(err)
		}
		r2 := req.Clone(req.Context())
		if attempt > 0 && req.GetBody != nil {
			if r2.Body, err = req.GetBody(); err != nil {
				return nil, fmt.Errorf("exchange: replay the request body after a DPoP nonce challenge: %v: %w", err, errDPoPReplay)
			}
		}
		r2.Header.Set("Authorization", "DPoP "+at)
		r2.Header.Set("DPoP", proof)
		resp, err := base.RoundTrip(r2)
		if err != nil {
			return nil, err
		}
		fresh, err := b.st.remember(target, used, resp.Header)
		if err != nil {
			drain(resp)
			return nil, err
		}
		if resp.StatusCode != http.StatusUnauthorized || !dpopNonceChallenge(resp.Header) {
			return resp, nil
		}
		switch {
		case !fresh:
			drain(resp)
			return nil, fmt.Errorf("exchange: %s demanded a DPoP nonce without giving a new one in DPoP-Nonce: %w", redactURL(target), errDPoPNonceLoop)
		case attempt > 0:
			drain(resp)
			return nil, fmt.Errorf("exchange: %s demanded a DPoP nonce a second time in a row; not retrying again: %w", redactURL(target), errDPoPNonceLoop)
		case req.Body != nil && req.Body != http.NoBody && req.GetBody == nil:
			drain(resp)
			return nil, fmt.Errorf("exchange: %s demanded a DPoP nonce, and the request's body cannot be sent again (no GetBody; build the request with http.NewRequest and a bytes or strings reader): %w", redactURL(target), errDPoPReplay)
		}
		drain(resp)
	}
}

// dpopNonceChallenge reports whether h holds a DPoP challenge with
// error="use_dpop_nonce" (RFC 9449 §9).
func dpopNonceChallenge(h http.Header) bool {
	for _, v := range h.Values("WWW-Authenticate") {
		if len(v) > 5 && strings.EqualFold(v[:5], "DPoP ") && strings.Contains(v, `error="use_dpop_nonce"`) {
			return true
		}
	}
	return false
}

// drain reads a little of resp's body and closes it, so that the
// connection can be reused.
func drain(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
	resp.Body.Close()
}

// clientTransport sends a request through an http.Client (its timeout and
// redirect policy), as a RoundTripper.
type clientTransport struct{ hc *http.Client }

func (t clientTransport) RoundTrip(r *http.Request) (*http.Response, error) { return t.hc.Do(r) }
