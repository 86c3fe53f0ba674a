package assertion

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"

	"github.com/pkjwt/pkjwt/internal/clock"
	"github.com/pkjwt/pkjwt/jwks"
)

// Config configures a [Minter] of client assertions. ClientID and Audience
// are required; every other field has a safe zero value.
type Config struct {
	// ClientID is the client identifier the authorization server registered.
	// It becomes both "iss" and "sub", byte for byte. Required; invalid
	// UTF-8, control characters or leading or trailing white space are
	// refused too (nothing is trimmed).
	ClientID string
	// Audience is the single "aud" value, used exactly as given (no trailing
	// slash is added or removed). Required.
	//
	// With ProfileRFC10070 it is the authorization server's issuer
	// identifier as validated by discovery (provider.Provider.Issuer): an
	// absolute http or https URL without query or fragment. With
	// ProfileLegacy it is the token endpoint URL: an absolute http or https
	// URL without fragment. Anything else is refused.
	Audience string
	// Profile selects the audience and header rules. Zero is
	// ProfileRFC10070; an undefined value is refused.
	Profile Profile
	// Lifetime is how long an assertion is valid: "exp" = "iat" + Lifetime,
	// in whole seconds (a fraction is dropped). Zero means 5 minutes.
	// Negative or shorter than one second is refused; longer than 5 minutes
	// needs AllowLongLifetime, and longer than 1 hour is always refused.
	Lifetime time.Duration
	// AllowLongLifetime permits a Lifetime above 5 minutes, up to 1 hour.
	// Zero (false) keeps assertions within 5 minutes, as
	// authorization servers expect; a longer-lived assertion is a longer
	// replay window if it leaks.
	AllowLongLifetime bool
	// NotBefore adds "nbf" equal to "iat". Zero (false) omits it.
	NotBefore bool
	// Certificate is the X.509 certificate of the signing key, for
	// ProfileLegacy only: its SHA-256 thumbprint goes into the "x5t#S256"
	// header, as Microsoft Entra ID expects. Zero (nil) sends no
	// thumbprint. A certificate with ProfileRFC10070, or one that does not
	// hold the public key of the signing key, is refused (the second is
	// checked again at every key change). NewMinter keeps the thumbprint
	// and public key, not the certificate.
	Certificate *x509.Certificate
	// Now is the clock; zero (nil) means time.Now. Tests fix it.
	Now func() time.Time
}

// Minter mints client assertions (RFC 7523 §3 as updated by RFC 10070) for
// one client at one authorization server, with the key its
// [jwks.KeySource] yields at each call. It implements [Source].
//
// Every call makes a new assertion with a fresh "jti"; nothing is cached
// except the encoded header of the current key. A Minter holds no secret
// (the key stays in its source), and its String form shows the client ID,
// audience and profile only.
//
// A Minter is safe for concurrent use.
type Minter struct {
	keys      jwks.KeySource
	clientID  string
	audience  string
	profile   Profile
	lifetime  int64 // seconds
	notBefore bool
	now       func() time.Time
	prefix    []byte // `{"iss":…,"sub":…,"aud":…,"iat":`
	hdr       headerCache
}

var (
	_ Source        = (*Minter)(nil)
	_ fmt.Formatter = (*Minter)(nil)
)

// NewMinter validates cfg and returns a Minter that signs with the key keys
// yields at each call (a *[jwks.Key], or a *[jwks.Ring] that rotates). It does
// no I/O, except that with Config.Certificate it asks keys for the current
// key once to check the certificate against it.
//
// Errors join every problem found, each wrapping ErrInvalidConfig and
// naming the field at fault.
func NewMinter(keys jwks.KeySource, cfg Config) (*Minter, error) {
	var errs []error
	if isNilSource(keys) {
		keys = nil
		errs = append(errs, fmt.Errorf("assertion: no key source; pass a *jwks.Key or *jwks.Ring: %w: %w", ErrInvalidConfig, errNoKeySource))
	}
	switch p := textProblem(cfg.ClientID); {
	case cfg.ClientID == "":
		errs = append(errs, fmt.Errorf("assertion: Config.ClientID is empty; set the client_id the authorization server registered: %w: %w", ErrInvalidConfig, errMissingClientID))
	case p != "":
		errs = append(errs, fmt.Errorf("assertion: Config.ClientID %q %s: %w: %w", shorten(cfg.ClientID), p, ErrInvalidConfig, errInvalidClientID))
	}
	switch cfg.Profile {
	case ProfileRFC10070, ProfileLegacy:
		if cfg.Audience == "" {
			what := "the issuer identifier from discovery"
			if cfg.Profile == ProfileLegacy {
				what = "the token endpoint URL"
			}
			errs = append(errs, fmt.Errorf("assertion: Config.Audience is empty; set %s: %w: %w", what, ErrInvalidConfig, errMissingAudience))
		} else if p := audienceProblem(cfg.Audience, cfg.Profile); p != "" {
			errs = append(errs, fmt.Errorf("assertion: Config.Audience %q %s: %w: %w", shorten(cfg.Audience), p, ErrInvalidConfig, errInvalidAudience))
		}
	default:
		errs = append(errs, fmt.Errorf("assertion: Config.Profile %s is not defined; use ProfileRFC10070 or ProfileLegacy: %w: %w", cfg.Profile.name(), ErrInvalidConfig, errInvalidProfile))
	}
	lifetime := cfg.Lifetime
	if lifetime == 0 {
		lifetime = defaultLifetime
	}
	if err := checkLifetime("Config.Lifetime", lifetime, cfg.AllowLongLifetime, ErrInvalidConfig); err != nil {
		errs = append(errs, err)
	}
	if cfg.Certificate != nil {
		switch {
		case cfg.Profile != ProfileLegacy:
			errs = append(errs, fmt.Errorf("assertion: Config.Certificate is only used with ProfileLegacy; remove it: %w: %w", ErrInvalidConfig, errCertificate))
		case len(cfg.Certificate.Raw) == 0:
			errs = append(errs, fmt.Errorf("assertion: Config.Certificate has no DER bytes; parse it with x509.ParseCertificate: %w: %w", ErrInvalidConfig, errCertificate))
		case keys != nil:
			if key, err := keys.SigningKey(); err == nil && key != nil {
				if err := certificateMatches(cfg.Certificate.PublicKey, key); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	m := &Minter{
		keys:      keys,
		clientID:  cfg.ClientID,
		audience:  cfg.Audience,
		profile:   cfg.Profile,
		lifetime:  int64(lifetime / time.Second),
		notBefore: cfg.NotBefore,
		now:       clock.Or(cfg.Now),
	}
	m.hdr.typ = typeClientAuthentication
	if cfg.Profile == ProfileLegacy {
		m.hdr.typ = typeJWT
		if cfg.Certificate != nil {
			m.hdr.setCertificate(cfg.Certificate)
		}
	}
	p := make([]byte, 0, 32+2*len(cfg.ClientID)+len(cfg.Audience))
	p = append(p, `{"iss":`...)
	p = appendJSONString(p, cfg.ClientID)
	p = append(p, `,"sub":`...)
	p = appendJSONString(p, cfg.ClientID)
	p = append(p, `,"aud":`...)
	p = appendJSONString(p, cfg.Audience)
	p = append(p, `,"iat":`...)
	m.prefix = p
	return m, nil
}

// isNilSource reports whether keys is nil or a nil *jwks.Key.
func isNilSource(keys jwks.KeySource) bool {
	k, ok := keys.(*jwks.Key)
	return keys == nil || ok && k == nil
}

// checkLifetime validates a lifetime d already defaulted; allowLong permits
// up to maxLifetime instead of defaultLifetime. The error wraps class
// (ErrInvalidConfig for a config field, ErrInvalidClaims for an option).
func checkLifetime(field string, d time.Duration, allowLong bool, class error) error {
	switch {
	case d < time.Second:
		return fmt.Errorf("assertion: %s %v is below one second; use a positive duration such as 2*time.Minute: %w: %w", field, d, class, errInvalidLifetime)
	case d > maxLifetime:
		return fmt.Errorf("assertion: %s %v exceeds the maximum of %v: %w: %w", field, d, maxLifetime, class, errLifetimeTooLong)
	case d > defaultLifetime && !allowLong:
		return fmt.Errorf("assertion: %s %v exceeds %v; set Config.AllowLongLifetime to go up to %v: %w: %w", field, d, defaultLifetime, maxLifetime, class, errLifetimeTooLong)
	}
	return nil
}

// audienceProblem returns why aud is not a usable client-assertion audience
// for profile p, or "".
func audienceProblem(aud string, p Profile) string {
	if pr := textProblem(aud); pr != "" {
		return pr
	}
	if strings.ContainsFunc(aud, unicode.IsSpace) {
		return "holds white space"
	}
	u, err := url.Parse(aud)
	if err != nil {
		return "is not a URL"
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return "is not an absolute http or https URL"
	case u.Host == "" || u.Opaque != "":
		return "has no host"
	case u.User != nil:
		return "holds user information"
	case strings.Contains(aud, "#"):
		return "has a fragment"
	case p == ProfileRFC10070 && (u.RawQuery != "" || u.ForceQuery):
		return "has a query, which an issuer identifier never has (RFC 8414 §2); for a token endpoint URL use ProfileLegacy"
	}
	return ""
}

// Assertion mints a new client assertion: a compact JWS signed with the key
// the Minter's source yields now, with header {"alg","kid","typ"} (plus
// "x5t#S256" in the legacy profile with a certificate) and claims iss, sub,
// aud, iat, [nbf,] exp and a fresh UUIDv4 jti. It does no I/O of its own; a
// key held in a KMS or HSM signs under ctx.
//
// Errors wrap the key source's error (such as jwks.ErrNoActiveKey),
// ErrInvalidConfig (a new key that does not match Config.Certificate), a
// context error, jwks.ErrInvalidConfig or ErrSign; none contains the assertion.
func (m *Minter) Assertion(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("assertion: %w", err)
	}
	key, err := signingKey(m.keys)
	if err != nil {
		return "", err
	}
	h, err := m.hdr.get(key)
	if err != nil {
		return "", err
	}
	id, err := uuid.NewRandom()
	if err != nil {
		return "", fmt.Errorf("assertion: generate jti: %v", err)
	}
	iat := m.now().Unix()
	var stack [256]byte
	c := append(stack[:0], m.prefix...)
	c = strconv.AppendInt(c, iat, 10)
	if m.notBefore {
		c = append(c, `,"nbf":`...)
		c = strconv.AppendInt(c, iat, 10)
	}
	c = append(c, `,"exp":`...)
	c = strconv.AppendInt(c, iat+m.lifetime, 10)
	c = append(c, `,"jti":"`...)
	c = appendUUID(c, id)
	c = append(c, `"}`...)
	return assemble(ctx, key, h, c)
}

// ClientID returns the configured client ID ("iss" and "sub").
func (m *Minter) ClientID() string { return m.clientID }

// Audience returns the configured audience ("aud").
func (m *Minter) Audience() string { return m.audience }

// Profile returns the configured profile.
func (m *Minter) Profile() Profile { return m.profile }

// String describes the Minter by client ID, audience and profile. It never
// shows key material.
func (m *Minter) String() string {
	if m == nil {
		return "assertion.Minter(nil)"
	}
	return fmt.Sprintf("assertion.Minter{client_id: %q, aud: %q, profile: %s}", m.clientID, m.audience, m.profile.name())
}

// Format writes the String description for every verb (%#v included), so
// that no verb reaches the key source; slog's text output goes through it
// too.
func (m *Minter) Format(f fmt.State, _ rune) { fmt.Fprint(f, m.String()) }
