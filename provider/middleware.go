package provider

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pkjwt/pkjwt/jwks"
)

// MiddlewareConfig configures [Middleware].
type MiddlewareConfig struct {
	// Realm is the realm of the WWW-Authenticate challenge. Zero omits it.
	Realm string
	// Logger receives failures the client is not told about in detail: key
	// set fetch failures. Nil discards.
	Logger *slog.Logger

	// DPoPAlgorithms turns on DPoP-bound access tokens (RFC 9449 §7): the
	// algorithms accepted for proofs, advertised in the
	// WWW-Authenticate: DPoP algs="…" challenge. Zero (nil) means DPoP is
	// off: the DPoP scheme is answered like a missing token. Either way a
	// token bound to a key (cnf.jkt) presented as Bearer is refused (RFC
	// 9449 §7.2). For RFC 9068 access tokens set JWTConfig.Type to
	// "at+jwt" on the verifier.
	DPoPAlgorithms []jwks.Algorithm
	// DPoPPublicURL is the scheme and host clients use to reach this
	// service (https://api.example.com, no path, query or user
	// information), which proofs' htu must name; the htu's path must be
	// the request's. It is required with DPoPAlgorithms: the request's
	// Host header is chosen by the client, so a proof made for another
	// service could name it, and behind a proxy that terminates TLS the
	// request does not say the scheme. Zero with DPoPAlgorithms is a
	// configuration error (see [Middleware]).
	DPoPPublicURL string
	// DPoPProofWindow is how far a proof's iat may be from the verifier's
	// clock, either way, and how long its jti is remembered. Zero means one
	// minute; from one second to five minutes.
	DPoPProofWindow time.Duration
	// ReplayCache remembers the jti of every accepted proof, so that each
	// is accepted once. Zero means a bounded in-memory cache, right for
	// one process; several replicas need a shared store.
	ReplayCache ReplayCache
	// DPoPNonceRequired makes every proof carry a nonce this middleware
	// issued (RFC 9449 §9): a proof without a current one is answered 401
	// use_dpop_nonce with a DPoP-Nonce header. Nonces are stateless (a MAC
	// of the time window under a random per-middleware key) and valid for
	// two proof windows. Zero (false) asks for none.
	DPoPNonceRequired bool
}

type ctxKey struct{}

// Middleware returns HTTP middleware for a service that receives JWTs as
// Bearer tokens (RFC 6750 §2.1, the Authorization header only) and, with
// MiddlewareConfig.DPoPAlgorithms, DPoP-bound tokens with their proofs (RFC
// 9449 §7). It verifies the token with v (and the proof) and puts the
// verified *JWT in the request context ([FromContext]) before calling next.
//
// A request without a token gets 401 with WWW-Authenticate: Bearer (and
// realm), plus a DPoP challenge with algs when DPoP is on. A token that
// fails verification gets 401 with error="invalid_token" and a fixed
// error_description naming the kind of failure (RFC 6750 §3). A DPoP-bound
// token (cnf.jkt) sent as Bearer is invalid_token. A DPoP request whose
// proof fails (signature with its own jwk, typ dpop+jwt, alg, htm, htu,
// iat, ath, the key's thumbprint against cnf.jkt, a jti seen before) gets
// 401 with a DPoP challenge and error="invalid_dpop_proof", or
// "use_dpop_nonce" and a DPoP-Nonce header. When the keys cannot be
// fetched it answers 503. An invalid DPoP setting of cfg (including
// DPoPAlgorithms without DPoPPublicURL) is logged when Middleware is called
// and makes every request 500 (logged again). The token and proof are
// never echoed, logged or put in a header.
func Middleware(v *JWTVerifier, cfg MiddlewareConfig) func(http.Handler) http.Handler {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	challenge := "Bearer"
	if cfg.Realm != "" {
		challenge += " realm=" + strconv.Quote(cfg.Realm)
	}
	dp, dpErr := newDPoPCheck(cfg, v.now)
	if dpErr != nil {
		log.Error("provider: middleware misconfigured; every request will be answered 500", slog.String("error", dpErr.Error()))
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if dpErr != nil {
				log.Error("provider: middleware misconfigured", slog.String("error", dpErr.Error()))
				http.Error(w, "middleware misconfigured", http.StatusInternalServerError)
				return
			}
			raw, scheme, ok := authorization(r)
			if !ok || (scheme == "DPoP" && dp == nil) {
				w.Header().Set("WWW-Authenticate", challenge)
				if dp != nil {
					w.Header().Add("WWW-Authenticate", dp.challenge(cfg.Realm, "", ""))
				}
				http.Error(w, "bearer token required", http.StatusUnauthorized)
				return
			}
			refuse := func(code, description string) {
				if scheme == "DPoP" || (dp != nil && code == dpopInvalidToken && description == boundAsBearer) {
					w.Header().Set("WWW-Authenticate", dp.challenge(cfg.Realm, code, description))
				} else {
					sep := ","
					if cfg.Realm == "" {
						sep = ""
					}
					w.Header().Set("WWW-Authenticate", challenge+sep+` error="`+code+`", error_description="`+description+`"`)
				}
				http.Error(w, "invalid token", http.StatusUnauthorized)
			}
			t, err := v.Verify(r.Context(), raw)
			if err != nil {
				if errors.Is(err, jwks.ErrFetch) ||
					errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
					log.Error("provider: token keys unavailable", slog.String("issuer", v.issuer), slog.String("error", err.Error()))
					http.Error(w, "token keys unavailable", http.StatusServiceUnavailable)
					return
				}
				refuse(dpopInvalidToken, describe(err))
				return
			}
			jkt, err := boundKey(t)
			switch {
			case err != nil:
				refuse(dpopInvalidToken, "the token is malformed")
				return
			case scheme == "Bearer" && jkt != "":
				refuse(dpopInvalidToken, boundAsBearer)
				return
			case scheme == "DPoP" && jkt == "":
				refuse(dpopInvalidToken, "the token is not bound to a DPoP key")
				return
			case scheme == "DPoP":
				if code, err := dp.verify(r.Context(), r, raw, jkt); err != nil {
					if code == dpopUseNonce {
						w.Header().Set("DPoP-Nonce", dp.nonce(dp.now()))
						refuse(code, "a DPoP nonce is required")
						return
					}
					log.Debug("provider: DPoP proof refused", slog.String("error", err.Error()))
					refuse(code, "the DPoP proof is not valid for this request and token")
					return
				}
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, t)))
		})
	}
}

// boundAsBearer is the description of a DPoP-bound token sent as Bearer.
const boundAsBearer = "the token is bound to a DPoP key; send it with the DPoP scheme and a proof"

// FromContext returns the token [Middleware] verified for this request.
func FromContext(ctx context.Context) (*JWT, bool) {
	t, ok := ctx.Value(ctxKey{}).(*JWT)
	return t, ok
}

// authorization extracts the token and scheme ("Bearer" or "DPoP") of a
// single Authorization header.
func authorization(r *http.Request) (tok, scheme string, ok bool) {
	h := r.Header.Values("Authorization")
	if len(h) != 1 {
		return "", "", false
	}
	scheme, tok, ok = strings.Cut(h[0], " ")
	switch {
	case !ok:
		return "", "", false
	case strings.EqualFold(scheme, "Bearer"):
		scheme = "Bearer"
	case strings.EqualFold(scheme, "DPoP"):
		scheme = "DPoP"
	default:
		return "", "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, scheme, tok != ""
}

// describe names the kind of a verification failure with a fixed text that
// holds nothing from the token.
func describe(err error) string {
	for _, d := range []struct {
		err  error
		text string
	}{
		{ErrTokenExpired, "the token expired"},
		{errMissingIssuedAt, "the token's issue time is missing or in the future"},
		{errIssuedInFuture, "the token's issue time is missing or in the future"},
		{ErrTokenNotYetValid, "the token is not valid yet"},
		{ErrTokenLifetime, "the token's lifetime is too long"},
		{ErrInvalidIssuer, "the token's issuer is not accepted"},
		{ErrInvalidAudience, "the token is not meant for this service"},
		{ErrClaimMismatch, "a required claim is missing or different"},
		{ErrInvalidSignature, "the token's signature does not verify"},
		{ErrUnsupportedAlgorithm, "the token's algorithm is not accepted"},
		{errUnsupportedHeader, "the token's header is not accepted"},
	} {
		if errors.Is(err, d.err) {
			return d.text
		}
	}
	return "the token is malformed"
}
