package assertion

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/pkjwt/pkjwt/internal/clock"
	"github.com/pkjwt/pkjwt/internal/jose"
	"github.com/pkjwt/pkjwt/jwks"
)

// TokenConfig configures a [TokenMinter] of short-lived JWTs with custom
// claims, such as a partner's user token or a service-to-service token.
// Issuer is required; every other field has a safe zero value.
type TokenConfig struct {
	// Issuer is the "iss" claim, exactly as given. Required; invalid UTF-8,
	// control characters or leading or trailing white space are refused.
	Issuer string
	// Subject is the default "sub" claim; [WithSubject] overrides it per
	// call. Zero omits "sub" unless a call sets one. Malformed is refused.
	Subject string
	// Audience is the default "aud": one value is written as a JSON string,
	// several as an array (RFC 7519 §4.1.3). [WithAudience] replaces it per
	// call. Zero means every call must give [WithAudience], or it fails with
	// ErrInvalidClaims: a token is never minted without an audience. An
	// empty or malformed value is refused. The slice is copied.
	Audience []string
	// Type is the header's "typ" (RFC 8725 §3.11: explicit typing, so that a
	// verifier can tell this token from an ID token or a client assertion),
	// such as "at+jwt" or "secevent+jwt". Zero means "JWT". The client
	// assertion type "client-authentication+jwt" is refused: only a
	// [Minter] makes those; it is refused, like a malformed type.
	Type string
	// Lifetime is how long a token is valid: "exp" = "iat" + Lifetime, in
	// whole seconds. Zero means 5 minutes. Below one second or above one
	// hour is refused. [WithLifetime] overrides it per call.
	Lifetime time.Duration
	// NotBefore adds "nbf" equal to "iat". Zero (false) omits it.
	NotBefore bool
	// OmitJTI leaves out the random "jti" for verifiers that refuse unknown
	// members. Zero (false) writes a fresh UUIDv4 "jti" in every token, so a
	// verifier can detect replays. [WithJTI] sets it per call either way.
	OmitJTI bool
	// Now is the clock; zero (nil) means time.Now.
	Now func() time.Time
}

// TokenMinter mints short-lived signed JWTs with registered claims (iss,
// sub, aud, iat, nbf, exp, jti) and any custom claims, with the key its
// [jwks.KeySource] yields at each call. Every call makes a new token; the
// only thing cached is the encoded header of the current key.
//
// A TokenMinter is safe for concurrent use.
type TokenMinter struct {
	keys      jwks.KeySource
	issuer    string
	audience  []string
	typ       string
	lifetime  time.Duration
	notBefore bool
	omitJTI   bool
	now       func() time.Time
	issJSON   []byte // `{"iss":…`
	subJSON   []byte // `,"sub":…` or empty
	audJSON   []byte // `,"aud":…` or empty
	hdr       headerCache
}

var _ fmt.Formatter = (*TokenMinter)(nil)

// NewTokenMinter validates cfg and returns a TokenMinter that signs with the
// key keys yields at each call. It does no I/O.
//
// Errors join every problem found, each wrapping ErrInvalidConfig and
// naming the field at fault.
func NewTokenMinter(keys jwks.KeySource, cfg TokenConfig) (*TokenMinter, error) {
	var errs []error
	if isNilSource(keys) {
		errs = append(errs, fmt.Errorf("assertion: no key source; pass a *jwks.Key or *jwks.Ring: %w: %w", ErrInvalidConfig, errNoKeySource))
	}
	switch p := textProblem(cfg.Issuer); {
	case cfg.Issuer == "":
		errs = append(errs, fmt.Errorf("assertion: TokenConfig.Issuer is empty; set the issuer your verifier expects: %w: %w", ErrInvalidConfig, errMissingIssuer))
	case p != "":
		errs = append(errs, fmt.Errorf("assertion: TokenConfig.Issuer %q %s: %w: %w", shorten(cfg.Issuer), p, ErrInvalidConfig, errInvalidIssuer))
	}
	if cfg.Subject != "" {
		if err := checkSubject("TokenConfig.Subject", cfg.Subject, ErrInvalidConfig); err != nil {
			errs = append(errs, err)
		}
	}
	if err := checkAudiences("TokenConfig.Audience", cfg.Audience, ErrInvalidConfig); err != nil {
		errs = append(errs, err)
	}
	typ := cfg.Type
	if typ == "" {
		typ = typeJWT
	}
	if err := checkType(typ); err != nil {
		errs = append(errs, err)
	}
	lifetime := cfg.Lifetime
	if lifetime == 0 {
		lifetime = defaultLifetime
	}
	if err := checkLifetime("TokenConfig.Lifetime", lifetime, true, ErrInvalidConfig); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	m := &TokenMinter{
		keys:      keys,
		issuer:    cfg.Issuer,
		audience:  slices.Clone(cfg.Audience),
		typ:       typ,
		lifetime:  lifetime,
		notBefore: cfg.NotBefore,
		omitJTI:   cfg.OmitJTI,
		now:       clock.Or(cfg.Now),
	}
	m.hdr.typ = typ
	m.issJSON = appendJSONString([]byte(`{"iss":`), cfg.Issuer)
	if cfg.Subject != "" {
		m.subJSON = appendJSONString([]byte(`,"sub":`), cfg.Subject)
	}
	if len(cfg.Audience) > 0 {
		m.audJSON = appendAudience(nil, cfg.Audience)
	}
	return m, nil
}

// checkSubject validates a subject value; the error wraps class.
func checkSubject(what, sub string, class error) error {
	if p := textProblem(sub); p != "" {
		return fmt.Errorf("assertion: %s %q %s: %w: %w", what, shorten(sub), p, class, errInvalidSubject)
	}
	return nil
}

// checkAudiences validates every audience value of a list; the error wraps
// class.
func checkAudiences(what string, aud []string, class error) error {
	for i, a := range aud {
		if p := textProblem(a); p != "" {
			return fmt.Errorf("assertion: %s[%d] %q %s: %w: %w", what, i, shorten(a), p, class, errInvalidAudience)
		}
	}
	return nil
}

// checkType validates a token "typ".
func checkType(typ string) error {
	for i := 0; i < len(typ); i++ {
		if c := typ[i]; c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return fmt.Errorf("assertion: TokenConfig.Type %q holds a character that is not printable ASCII; use a media type such as \"at+jwt\": %w: %w", shorten(typ), ErrInvalidConfig, errInvalidType)
		}
	}
	if t := strings.TrimPrefix(strings.ToLower(typ), "application/"); t == typeClientAuthentication {
		return fmt.Errorf("assertion: TokenConfig.Type %q is the client assertion type; use a Minter for client assertions: %w: %w", typ, ErrInvalidConfig, errInvalidType)
	}
	return nil
}

// appendAudience appends `,"aud":` and aud as a string (one value) or an
// array.
func appendAudience(dst []byte, aud []string) []byte {
	dst = append(dst, `,"aud":`...)
	if len(aud) == 1 {
		return appendJSONString(dst, aud[0])
	}
	dst = append(dst, '[')
	for i, a := range aud {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, a)
	}
	return append(dst, ']')
}

// Option changes one call to [TokenMinter.Mint]. When an option is given
// twice, the last one wins. The zero Option does nothing.
type Option struct {
	apply func(*callOptions)
}

type callOptions struct {
	subject     string
	subjectSet  bool
	audience    []string
	audienceSet bool
	lifetime    time.Duration
	lifetimeSet bool
	jti         string
	jtiSet      bool
}

// WithSubject sets the "sub" claim of one token, such as the user it speaks
// for. An empty or malformed value fails Mint with ErrInvalidClaims.
func WithSubject(sub string) Option {
	return Option{func(o *callOptions) { o.subject, o.subjectSet = sub, true }}
}

// WithAudience sets the "aud" claim of one token, replacing
// TokenConfig.Audience: one value is a JSON string, several an array. No
// value, or an empty or malformed one, fails Mint with ErrInvalidClaims. The
// slice is copied.
func WithAudience(aud ...string) Option {
	aud = slices.Clone(aud)
	return Option{func(o *callOptions) { o.audience, o.audienceSet = aud, true }}
}

// WithLifetime sets the lifetime of one token, in whole seconds, from one
// second up to one hour; otherwise Mint fails with ErrInvalidClaims.
func WithLifetime(d time.Duration) Option {
	return Option{func(o *callOptions) { o.lifetime, o.lifetimeSet = d, true }}
}

// WithJTI sets the "jti" claim of one token to id, such as the caller's own
// token ID (Stytch's trusted auth tokens), instead of a random UUID. The
// caller is then responsible for its uniqueness. An empty or malformed id
// fails Mint with ErrInvalidClaims.
func WithJTI(id string) Option {
	return Option{func(o *callOptions) { o.jti, o.jtiSet = id, true }}
}

// reservedClaims are the registered claims a TokenMinter sets itself.
var reservedClaims = [...]string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti"}

// Mint returns a new signed JWT (compact JWS) with header {"alg","kid","typ"}
// and claims iss, [sub,] aud, iat, [nbf,] exp, [jti,] followed by the custom
// claims. claims may be nil, a map with string keys, or any value that
// encoding/json marshals to a JSON object (a struct, say); a custom claim
// named like a registered claim, in any letter case (set those through
// TokenConfig and the options), anything that is not an object, or an object
// that repeats a member, is refused. It does no I/O of its own; a key held in
// a KMS or HSM signs under ctx.
//
// Errors wrap ErrInvalidClaims (the claims or an option; the message names
// which), the key source's error, a context error, jwks.ErrInvalidConfig or
// ErrSign; none contains the token.
func (m *TokenMinter) Mint(ctx context.Context, claims any, opts ...Option) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("assertion: %w", err)
	}
	var o callOptions
	for _, opt := range opts {
		if opt.apply != nil {
			opt.apply(&o)
		}
	}
	var errs []error
	if o.subjectSet {
		if err := checkSubject("WithSubject", o.subject, ErrInvalidClaims); err != nil {
			errs = append(errs, err)
		}
	}
	if o.audienceSet {
		if len(o.audience) == 0 {
			errs = append(errs, fmt.Errorf("assertion: WithAudience without a value: %w: %w", ErrInvalidClaims, errMissingAudience))
		} else if err := checkAudiences("WithAudience", o.audience, ErrInvalidClaims); err != nil {
			errs = append(errs, err)
		}
	} else if len(m.audience) == 0 {
		errs = append(errs, fmt.Errorf("assertion: no audience; set TokenConfig.Audience or pass WithAudience: %w: %w", ErrInvalidClaims, errMissingAudience))
	}
	lifetime := m.lifetime
	if o.lifetimeSet {
		lifetime = o.lifetime
		if err := checkLifetime("WithLifetime", lifetime, true, ErrInvalidClaims); err != nil {
			errs = append(errs, err)
		}
	}
	if o.jtiSet {
		if p := textProblem(o.jti); p != "" {
			errs = append(errs, fmt.Errorf("assertion: WithJTI %q %s: %w: %w", shorten(o.jti), p, ErrInvalidClaims, errInvalidJTI))
		}
	}
	custom, err := customClaims(claims)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return "", errors.Join(errs...)
	}

	key, err := signingKey(m.keys)
	if err != nil {
		return "", err
	}
	h, err := m.hdr.get(key)
	if err != nil {
		return "", err
	}
	iat := m.now().Unix()
	c := make([]byte, 0, len(m.issJSON)+len(m.subJSON)+len(m.audJSON)+len(o.subject)+len(custom)+128)
	c = append(c, m.issJSON...)
	if o.subjectSet {
		c = append(c, `,"sub":`...)
		c = appendJSONString(c, o.subject)
	} else {
		c = append(c, m.subJSON...)
	}
	if o.audienceSet {
		c = appendAudience(c, o.audience)
	} else {
		c = append(c, m.audJSON...)
	}
	c = append(c, `,"iat":`...)
	c = strconv.AppendInt(c, iat, 10)
	if m.notBefore {
		c = append(c, `,"nbf":`...)
		c = strconv.AppendInt(c, iat, 10)
	}
	c = append(c, `,"exp":`...)
	c = strconv.AppendInt(c, iat+int64(lifetime/time.Second), 10)
	switch {
	case o.jtiSet:
		c = append(c, `,"jti":`...)
		c = appendJSONString(c, o.jti)
	case !m.omitJTI:
		id, err := uuid.NewRandom()
		if err != nil {
			return "", fmt.Errorf("assertion: generate jti: %v", err)
		}
		c = append(c, `,"jti":"`...)
		c = appendUUID(c, id)
		c = append(c, '"')
	}
	if len(custom) > 0 {
		c = append(c, ',')
		c = append(c, custom...)
	}
	c = append(c, '}')
	return assemble(ctx, key, h, c)
}

// customClaims marshals claims and returns the members of the resulting JSON
// object without the braces (empty for nil or an empty object). It refuses
// a non-object, a repeated member and any member named like a registered
// claim.
func customClaims(claims any) ([]byte, error) {
	if claims == nil {
		return nil, nil
	}
	b, err := json.Marshal(claims)
	if err != nil {
		return nil, fmt.Errorf("assertion: custom claims of type %T do not marshal to JSON: %v: %w: %w", claims, err, ErrInvalidClaims, errMalformedClaims)
	}
	if string(b) == "null" { // a nil map or pointer
		return nil, nil
	}
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return nil, fmt.Errorf("assertion: custom claims of type %T do not marshal to a JSON object; use a map or a struct: %w: %w", claims, ErrInvalidClaims, errMalformedClaims)
	}
	err = jose.Object(b, func(name, _ []byte) error {
		for _, r := range reservedClaims {
			if strings.EqualFold(string(name), r) {
				return fmt.Errorf("assertion: custom claim %q collides with the registered claim %q; set it through TokenConfig or a With… option: %w: %w", shorten(string(name)), r, ErrInvalidClaims, errClaimCollision)
			}
		}
		return nil
	})
	switch {
	case errors.Is(err, errClaimCollision):
		return nil, err
	case err != nil:
		// A repeated member: two invalid UTF-8 names that encoding/json
		// both turned into U+FFFD, or a MarshalJSON that repeats one.
		return nil, fmt.Errorf("assertion: custom claims of type %T: %v: %w: %w", claims, err, ErrInvalidClaims, errMalformedClaims)
	}
	return b[1 : len(b)-1], nil
}

// String describes the TokenMinter by issuer, audience and type. It never
// shows key material.
func (m *TokenMinter) String() string {
	if m == nil {
		return "assertion.TokenMinter(nil)"
	}
	return fmt.Sprintf("assertion.TokenMinter{iss: %q, aud: %q, typ: %q}", m.issuer, m.audience, m.typ)
}

// Format writes the String description for every verb (%#v included), so
// that no verb reaches the key source; slog's text output goes through it
// too.
func (m *TokenMinter) Format(f fmt.State, _ rune) { fmt.Fprint(f, m.String()) }
