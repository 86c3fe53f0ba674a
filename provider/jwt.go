package provider

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/pkjwt/pkjwt/internal/clock"
	"github.com/pkjwt/pkjwt/jwks"
)

// defaultMaxLifetime is the default JWTConfig.MaxLifetime.
const defaultMaxLifetime = time.Hour

// JWTConfig configures a [JWTVerifier] for tokens that are not ID tokens:
// service-to-service tokens, partner tokens, short-lived JWTs minted with
// package assertion.
type JWTConfig struct {
	// Issuer is the exact iss the tokens must carry. Required.
	Issuer string
	// Audience must be one of the token's aud values. Required.
	Audience string
	// Type is the expected typ header (RFC 8725 §3.11), compared as a media
	// type: case-insensitive, "application/" optional. Zero accepts an
	// absent typ or "JWT"; set "at+jwt", say, to demand explicit typing.
	Type string
	// Algorithms is the allow-list of signature algorithms. Zero means RS256
	// only. "none" and HMAC are a configuration error.
	Algorithms []jwks.Algorithm
	// RequiredClaims maps claim names to the string values they must have,
	// such as {"source": "microservice"}. A missing claim, a claim that is
	// not a string, or another value is ErrClaimMismatch.
	RequiredClaims map[string]string
	// MaxLifetime bounds exp − iat. Zero means one hour; it must not be
	// negative.
	MaxLifetime time.Duration
	// Leeway is the clock skew allowed on exp, iat and nbf. Zero means one
	// minute; it must be positive and at most five minutes.
	Leeway time.Duration
	// MaxTokenBytes bounds the token's size. Zero means 32 KiB; it must not
	// be negative.
	MaxTokenBytes int
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// JWT is a verified token's registered claims. Other claims are read with
// [JWT.Claims].
type JWT struct {
	// Issuer is iss.
	Issuer string
	// Subject is sub, empty when absent.
	Subject string
	// Audience is aud; it contains the configured audience.
	Audience []string
	// Expiry is exp.
	Expiry time.Time
	// IssuedAt is iat.
	IssuedAt time.Time
	// NotBefore is nbf, zero when absent.
	NotBefore time.Time
	// ID is jti, empty when absent.
	ID string

	payload []byte
}

// Claims decodes the token's claims (the whole verified payload) into v, as
// json.Unmarshal does.
func (t *JWT) Claims(v any) error { return decodeClaims(t.payload, v) }

// JWTVerifier verifies JWTs of one issuer for one audience. It is immutable
// and safe for concurrent use.
type JWTVerifier struct {
	core        jwsCore
	issuer      string
	audience    string
	required    [][2]string
	maxLifetime time.Duration
	leeway      time.Duration
	now         func() time.Time
}

// NewJWTVerifier returns a verifier of the JWTs of cfg.Issuer whose keys
// come from keys (a *jwks.Remote of the issuer's JWKS URL, usually). It
// fails with ErrInvalidConfig when keys is nil, Issuer or Audience is empty,
// a duration or size is out of range, or an algorithm is not a supported
// asymmetric one (then ErrUnsupportedAlgorithm too); problems are joined
// with errors.Join. No I/O.
func NewJWTVerifier(keys KeySet, cfg JWTConfig) (*JWTVerifier, error) {
	var errs []error
	if keys == nil {
		errs = append(errs, fmt.Errorf("provider: NewJWTVerifier needs a key set: %w", ErrInvalidConfig))
	}
	if cfg.Issuer == "" {
		errs = append(errs, fmt.Errorf("provider: JWTConfig.Issuer is required: %w", ErrInvalidConfig))
	}
	if cfg.Audience == "" {
		errs = append(errs, fmt.Errorf("provider: JWTConfig.Audience is required: %w", ErrInvalidConfig))
	}
	leeway, err := checkLeeway(cfg.Leeway)
	if err != nil {
		errs = append(errs, err)
	}
	if cfg.MaxLifetime < 0 {
		errs = append(errs, fmt.Errorf("provider: MaxLifetime %v is negative: %w", cfg.MaxLifetime, ErrInvalidConfig))
	}
	if cfg.MaxTokenBytes < 0 {
		errs = append(errs, fmt.Errorf("provider: MaxTokenBytes %d is negative: %w", cfg.MaxTokenBytes, ErrInvalidConfig))
	}
	algs, err := filterAlgs(cfg.Algorithms, nil)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	v := &JWTVerifier{
		core:        jwsCore{keys: keys, algs: algs, maxBytes: orInt(cfg.MaxTokenBytes, defaultMaxTokenBytes), typ: cfg.Type},
		issuer:      cfg.Issuer,
		audience:    cfg.Audience,
		maxLifetime: cfg.MaxLifetime,
		leeway:      leeway,
		now:         clock.Or(cfg.Now),
	}
	if v.maxLifetime == 0 {
		v.maxLifetime = defaultMaxLifetime
	}
	for name, val := range cfg.RequiredClaims {
		v.required = append(v.required, [2]string{name, val})
	}
	sort.Slice(v.required, func(i, j int) bool { return v.required[i][0] < v.required[j][0] })
	return v, nil
}

// Verify verifies raw: size and structure, typ, no crit, alg in the
// allow-list, key by kid and alg, signature; then iss exactly, aud contains
// the audience, exp (with leeway), iat present and not in the future, nbf,
// exp − iat at most MaxLifetime, and the required claims.
//
// It may fetch keys. Each failure wraps one sentinel: ErrMalformedToken
// (also for a refused header or a missing iat), ErrUnsupportedAlgorithm,
// ErrInvalidSignature (with the jwks error), ErrInvalidIssuer,
// ErrInvalidAudience, ErrTokenExpired, ErrTokenNotYetValid (also for iat),
// ErrTokenLifetime, ErrClaimMismatch. Errors never contain the token.
func (v *JWTVerifier) Verify(ctx context.Context, raw string) (*JWT, error) {
	payload, _, err := v.core.verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	var c registeredClaims
	var got []optString
	if len(v.required) > 0 {
		got = make([]optString, len(v.required))
	}
	if err := decodeJWTClaims(payload, &c, v.required, got); err != nil {
		return nil, err
	}
	if err := c.checkIssuerAudience("token", v.issuer, v.audience); err != nil {
		return nil, err
	}
	t := &JWT{Issuer: c.Iss, Subject: c.Sub, Audience: c.Aud, ID: c.Jti, payload: payload}
	if t.Expiry, t.IssuedAt, err = checkTimes(v.now(), v.leeway, c.Exp, c.Iat, c.Nbf, "token"); err != nil {
		return nil, err
	}
	t.NotBefore, _ = c.Nbf.time()
	if life := t.Expiry.Sub(t.IssuedAt); life > v.maxLifetime {
		return nil, fmt.Errorf("provider: token lifetime %v exceeds %v: %w", life, v.maxLifetime, ErrTokenLifetime)
	}
	for i, rc := range v.required {
		if !got[i].ok || got[i].v != rc[1] {
			return nil, fmt.Errorf("provider: token claim %q is missing or not %q: %w", rc[0], rc[1], ErrClaimMismatch)
		}
	}
	return t, nil
}
