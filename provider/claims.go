package provider

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/pkjwt/pkjwt/internal/jose"
)

// The claims are read with the JOSE reader's member walker instead of
// reflection: one validating pass over the payload (a repeated member name
// at any level is malformed), and the few claims the verifiers need are
// converted by hand. Names are matched exactly (RFC 7519 §4).

// readClaims walks the claims object, mapping the reader's errors to
// ErrMalformedToken.
func readClaims(data []byte, fn func(name, val []byte) error) error {
	err := jose.Object(data, fn)
	if err != nil {
		if _, ours := err.(claimErr); ours {
			return err
		}
		return fmt.Errorf("provider: token claims: %v: %w", err, ErrMalformedToken)
	}
	return nil
}

// claimErr reports a claim of the wrong JSON type, without its value.
type claimErr struct{ error }

func claimError(name []byte, want string) error {
	return claimErr{fmt.Errorf("provider: token claim %q is not a JSON %s: %w", short(string(name)), want, ErrMalformedToken)}
}

func (e claimErr) Unwrap() error { return e.error }

// optBytes is a string claim that may be absent, read without allocating
// when it has no escapes (it then aliases the decoded payload).
type optBytes struct {
	v  []byte
	ok bool
}

func (o *optBytes) set(name, val []byte) error {
	if jose.IsNull(val) {
		*o = optBytes{}
		return nil
	}
	b, ok := jose.Bytes(val)
	if !ok {
		return claimError(name, "string")
	}
	*o = optBytes{b, true}
	return nil
}

// optString is a string claim that may be absent.
type optString struct {
	v  string
	ok bool
}

func (o *optString) set(name, val []byte) error {
	if jose.IsNull(val) {
		*o = optString{}
		return nil
	}
	s, ok := jose.String(val)
	if !ok {
		return claimError(name, "string")
	}
	*o = optString{s, true}
	return nil
}

// optNumber is a NumericDate claim (RFC 7519 §2) that may be absent.
type optNumber struct {
	v  float64
	ok bool
}

func (o *optNumber) set(name, val []byte) error {
	if jose.IsNull(val) {
		*o = optNumber{}
		return nil
	}
	if val[0] != '-' && (val[0] < '0' || val[0] > '9') {
		return claimError(name, "number")
	}
	f, err := strconv.ParseFloat(string(val), 64)
	if err != nil {
		// Out of float64 range: present, and refused by time().
		f = math.Inf(1)
	}
	*o = optNumber{f, true}
	return nil
}

// time converts the claim to a time; ok is false when absent or out of
// range (negative, or past the year 36812).
func (o optNumber) time() (time.Time, bool) {
	if !o.ok || o.v < 0 || o.v > 1<<40 || math.IsNaN(o.v) {
		return time.Time{}, false
	}
	sec, frac := math.Modf(o.v)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
}

// setAudience reads aud: a string or an array of strings.
func setAudience(aud *[]string, name, val []byte) error {
	if jose.IsNull(val) {
		*aud = nil
		return nil
	}
	if s, ok := jose.String(val); ok {
		*aud = []string{s}
		return nil
	}
	l, ok := jose.Strings(val)
	if !ok {
		return claimError(name, "string or array of strings")
	}
	*aud = l
	return nil
}

// setString reads a string claim into s ("" when absent or null).
func setString(s *string, name, val []byte) error {
	var o optString
	err := o.set(name, val)
	*s = o.v
	return err
}

// decodeIDClaims reads the claims of an ID token.
func decodeIDClaims(data []byte, c *idClaims) error {
	return readClaims(data, func(name, val []byte) error {
		switch string(name) {
		case "iss":
			return c.Iss.set(name, val)
		case "sub":
			return setString(&c.Sub, name, val)
		case "aud":
			return setAudience(&c.Aud, name, val)
		case "exp":
			return c.Exp.set(name, val)
		case "iat":
			return c.Iat.set(name, val)
		case "nbf":
			return c.Nbf.set(name, val)
		case "auth_time":
			return c.AuthTime.set(name, val)
		case "nonce":
			return c.Nonce.set(name, val)
		case "azp":
			return setString(&c.Azp, name, val)
		case "sid":
			return setString(&c.Sid, name, val)
		case "at_hash":
			return c.AtHash.set(name, val)
		case "acr":
			return c.Acr.set(name, val)
		}
		return nil
	})
}

// registeredClaims are the registered claims (RFC 7519 §4.1) the verifiers
// of JWTs, logout tokens and signed UserInfo read.
type registeredClaims struct {
	Iss, Sub, Jti string
	Aud           []string
	Exp, Iat, Nbf optNumber
}

// set reads name into c when it is a registered claim; ok reports whether
// it was one.
func (c *registeredClaims) set(name, val []byte) (ok bool, err error) {
	switch string(name) {
	case "iss":
		return true, setString(&c.Iss, name, val)
	case "sub":
		return true, setString(&c.Sub, name, val)
	case "jti":
		return true, setString(&c.Jti, name, val)
	case "aud":
		return true, setAudience(&c.Aud, name, val)
	case "exp":
		return true, c.Exp.set(name, val)
	case "iat":
		return true, c.Iat.set(name, val)
	case "nbf":
		return true, c.Nbf.set(name, val)
	}
	return false, nil
}

// checkIssuerAudience checks iss exactly and that aud contains aud; what
// names the token in the message.
func (c *registeredClaims) checkIssuerAudience(what, iss, aud string) error {
	if c.Iss != iss {
		return fmt.Errorf("provider: %s iss %q, expected %q: %w", what, short(c.Iss), iss, ErrInvalidIssuer)
	}
	if !contains(c.Aud, aud) {
		return fmt.Errorf("provider: %s aud %q does not contain %q: %w", what, shortList(c.Aud), aud, ErrInvalidAudience)
	}
	return nil
}

// checkOptionalTimes checks exp and nbf when present (with leeway), for
// tokens where they are optional.
func (c *registeredClaims) checkOptionalTimes(what string, now time.Time, leeway time.Duration) error {
	if c.Exp.ok {
		e, ok := c.Exp.time()
		if !ok || !now.Before(e.Add(leeway)) {
			return fmt.Errorf("provider: %s expired at %s (now %s, leeway %v): %w", what, e.Format(time.RFC3339), now.UTC().Format(time.RFC3339), leeway, ErrTokenExpired)
		}
	}
	if c.Nbf.ok {
		n, ok := c.Nbf.time()
		if !ok || n.After(now.Add(leeway)) {
			return fmt.Errorf("provider: %s not valid before %s: %w", what, n.Format(time.RFC3339), ErrTokenNotYetValid)
		}
	}
	return nil
}

// decodeJWTClaims reads the registered claims of a JWT and the values of
// the required claims (names in req, string values into got).
func decodeJWTClaims(data []byte, c *registeredClaims, req [][2]string, got []optString) error {
	return readClaims(data, func(name, val []byte) error {
		for i, rc := range req {
			if string(name) == rc[0] {
				s, ok := jose.String(val)
				got[i] = optString{s, ok}
			}
		}
		_, err := c.set(name, val)
		return err
	})
}
