package provider

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/pkjwt/pkjwt/jwks"
)

// MiddlewareConfig configures [Middleware].
type MiddlewareConfig struct {
	// Realm is the realm of the WWW-Authenticate challenge. Zero omits it.
	Realm string
	// Logger receives failures the client is not told about in detail: key
	// set fetch failures. Nil discards.
	Logger *slog.Logger
}

type ctxKey struct{}

// Middleware returns HTTP middleware for a service that receives JWTs as
// Bearer tokens (RFC 6750 §2.1, the Authorization header only). It verifies
// the token with v and puts the verified *JWT in the request context
// ([FromContext]) before calling next.
//
// A request without a Bearer token gets 401 with WWW-Authenticate: Bearer
// (and realm). A token that fails verification gets 401 with
// error="invalid_token" and a fixed error_description naming the kind of
// failure (RFC 6750 §3). When the keys cannot be fetched it answers 503. The
// token is never echoed, logged or put in a header.
func Middleware(v *JWTVerifier, cfg MiddlewareConfig) func(http.Handler) http.Handler {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	challenge := "Bearer"
	if cfg.Realm != "" {
		challenge += " realm=" + strconv.Quote(cfg.Realm)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			raw, ok := bearer(r)
			if !ok {
				w.Header().Set("WWW-Authenticate", challenge)
				http.Error(w, "bearer token required", http.StatusUnauthorized)
				return
			}
			t, err := v.Verify(r.Context(), raw)
			if err != nil {
				if errors.Is(err, jwks.ErrFetch) ||
					errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
					log.Error("provider: token keys unavailable", slog.String("issuer", v.issuer), slog.String("error", err.Error()))
					http.Error(w, "token keys unavailable", http.StatusServiceUnavailable)
					return
				}
				sep := ","
				if cfg.Realm == "" {
					sep = ""
				}
				w.Header().Set("WWW-Authenticate", challenge+sep+` error="invalid_token", error_description="`+describe(err)+`"`)
				http.Error(w, "invalid token", http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, t)))
		})
	}
}

// FromContext returns the token [Middleware] verified for this request.
func FromContext(ctx context.Context) (*JWT, bool) {
	t, ok := ctx.Value(ctxKey{}).(*JWT)
	return t, ok
}

// bearer extracts the token of a single "Authorization: Bearer" header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Values("Authorization")
	if len(h) != 1 {
		return "", false
	}
	scheme, tok, ok := strings.Cut(h[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
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
