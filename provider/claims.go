package provider

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// The header and the claims are read with a small member walker instead of
// reflection: encoding/json first validates the whole document (json.Valid),
// then the walker steps through the top-level members of that valid object
// and the few claims the verifiers need are converted by hand. The claim
// names are matched exactly (RFC 7519 §4: names are case-sensitive; the
// reflection decoder would also match "ISS"). A repeated member takes the
// last value, as encoding/json does, so [IDToken.Claims] agrees.

// walkObject calls fn with the name and raw value of each top-level member
// of data. data must be a JSON object; anything else is ErrMalformedToken.
func walkObject(data []byte, what string, fn func(name, val []byte) error) error {
	data = trimJSONSpace(data)
	if len(data) < 2 || data[0] != '{' || !shallow(data) || !json.Valid(data) {
		return fmt.Errorf("provider: token %s is not a JSON object of at most %d levels: %w", what, maxDepth, ErrMalformedToken)
	}
	i := skipSpace(data, 1)
	if data[i] == '}' {
		return nil
	}
	for {
		// data is valid JSON: a member name (a string) starts at i.
		end := skipString(data, i)
		name := data[i+1 : end-1]
		if !plainASCII(name) {
			var s string
			if err := json.Unmarshal(data[i:end], &s); err != nil {
				return fmt.Errorf("provider: token %s has a malformed member name: %w", what, ErrMalformedToken)
			}
			name = []byte(s)
		}
		i = skipSpace(data, end)
		i = skipSpace(data, i+1) // ':'
		vend := skipValue(data, i)
		if err := fn(name, data[i:vend]); err != nil {
			return err
		}
		i = skipSpace(data, vend)
		if data[i] == '}' {
			return nil
		}
		i = skipSpace(data, i+1) // ','
	}
}

// maxDepth bounds the nesting of objects and arrays in a header or claims
// set. Real tokens nest a few levels; the bound keeps json.Valid's stack
// (8 bytes a level) small.
const maxDepth = 64

// shallow reports whether data nests objects and arrays at most maxDepth
// levels deep (strings are skipped; validity is json.Valid's to check).
func shallow(data []byte) bool {
	depth := 0
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '"':
			for i++; i < len(data) && data[i] != '"'; i++ {
				if data[i] == '\\' {
					i++
				}
			}
		case '{', '[':
			if depth++; depth > maxDepth {
				return false
			}
		case '}', ']':
			depth--
		}
	}
	return true
}

// trimJSONSpace removes the white space JSON allows (RFC 8259 §2: space,
// tab, line feed, carriage return) from both ends; bytes.TrimSpace would
// also remove form feeds and Unicode spaces that encoding/json refuses.
func trimJSONSpace(b []byte) []byte {
	return bytes.Trim(b, " \t\n\r")
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at data[i] ('"').
func skipString(data []byte, i int) int {
	for i++; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(data)
}

// skipValue returns the index after the valid JSON value at data[i].
func skipValue(data []byte, i int) int {
	switch data[i] {
	case '"':
		return skipString(data, i)
	case '{', '[':
		depth := 0
		for i < len(data) {
			switch data[i] {
			case '"':
				i = skipString(data, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return len(data)
	}
	for i < len(data) {
		switch data[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// plainASCII reports whether the inside of a valid JSON string needs no
// decoding: no escape and no byte outside ASCII (encoding/json replaces
// invalid UTF-8 with U+FFFD, which the slow path then does too).
func plainASCII(b []byte) bool {
	for _, c := range b {
		if c == '\\' || c >= 0x80 {
			return false
		}
	}
	return true
}

func isNull(val []byte) bool { return string(val) == "null" }

// claimError reports a claim of the wrong JSON type, without its value.
func claimError(name []byte, want string) error {
	return fmt.Errorf("provider: token claim %q is not a JSON %s: %w", short(string(name)), want, ErrMalformedToken)
}

// jsonString converts a raw JSON string value.
func jsonString(name, val []byte) (string, error) {
	if len(val) < 2 || val[0] != '"' {
		return "", claimError(name, "string")
	}
	if inner := val[1 : len(val)-1]; plainASCII(inner) {
		return string(inner), nil
	}
	var s string
	if err := json.Unmarshal(val, &s); err != nil {
		return "", claimError(name, "string")
	}
	return s, nil
}

// jsonBytes is jsonString without the allocation when the string needs no
// decoding: the result then aliases val.
func jsonBytes(name, val []byte) ([]byte, error) {
	if len(val) < 2 || val[0] != '"' {
		return nil, claimError(name, "string")
	}
	if inner := val[1 : len(val)-1]; plainASCII(inner) {
		return inner, nil
	}
	s, err := jsonString(name, val)
	return []byte(s), err
}

// optBytes is a string claim that may be absent, read without allocating
// (it aliases the decoded payload).
type optBytes struct {
	v  []byte
	ok bool
}

func (o *optBytes) set(name, val []byte) error {
	if isNull(val) {
		*o = optBytes{}
		return nil
	}
	b, err := jsonBytes(name, val)
	*o = optBytes{b, err == nil}
	return err
}

// optString is a string claim that may be absent.
type optString struct {
	v  string
	ok bool
}

func (o *optString) set(name, val []byte) error {
	if isNull(val) {
		*o = optString{}
		return nil
	}
	s, err := jsonString(name, val)
	*o = optString{s, err == nil}
	return err
}

// optNumber is a NumericDate claim (RFC 7519 §2) that may be absent.
type optNumber struct {
	v  float64
	ok bool
}

func (o *optNumber) set(name, val []byte) error {
	if isNull(val) {
		*o = optNumber{}
		return nil
	}
	if len(val) == 0 || (val[0] != '-' && (val[0] < '0' || val[0] > '9')) {
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
	switch {
	case isNull(val):
		*aud = nil
	case val[0] == '"':
		s, err := jsonString(name, val)
		if err != nil {
			return err
		}
		*aud = []string{s}
	case val[0] == '[':
		var l []string
		if err := json.Unmarshal(val, &l); err != nil {
			return claimError(name, "string or array of strings")
		}
		*aud = l
	default:
		return claimError(name, "string or array of strings")
	}
	return nil
}

// decodeHeader reads the members of the protected header the verifiers
// use. "crit" is recorded when present with any value.
func decodeHeader(data []byte, h *jwsHeader) error {
	return walkObject(data, "header", func(name, val []byte) error {
		var err error
		switch string(name) {
		case "alg":
			h.Alg, err = jsonBytes(name, val)
		case "kid":
			h.Kid, err = jsonString(name, val)
		case "typ":
			h.Typ, err = jsonBytes(name, val)
		case "crit":
			h.Crit = true
		}
		return err
	})
}

// decodeIDClaims reads the claims of an ID token.
func decodeIDClaims(data []byte, c *idClaims) error {
	return walkObject(data, "claims", func(name, val []byte) error {
		var err error
		var o optString
		switch string(name) {
		case "iss":
			err = c.Iss.set(name, val)
		case "sub":
			err = o.set(name, val)
			c.Sub = o.v
		case "aud":
			err = setAudience(&c.Aud, name, val)
		case "exp":
			err = c.Exp.set(name, val)
		case "iat":
			err = c.Iat.set(name, val)
		case "nbf":
			err = c.Nbf.set(name, val)
		case "auth_time":
			err = c.AuthTime.set(name, val)
		case "nonce":
			err = c.Nonce.set(name, val)
		case "azp":
			err = o.set(name, val)
			c.Azp = o.v
		case "sid":
			err = o.set(name, val)
			c.Sid = o.v
		case "at_hash":
			err = c.AtHash.set(name, val)
		case "acr":
			err = c.Acr.set(name, val)
		}
		return err
	})
}

// decodeJWTClaims reads the registered claims of a JWT.
func decodeJWTClaims(data []byte, c *jwtClaims) error {
	return walkObject(data, "claims", func(name, val []byte) error {
		var err error
		var o optString
		switch string(name) {
		case "iss":
			err = o.set(name, val)
			c.Iss = o.v
		case "sub":
			err = o.set(name, val)
			c.Sub = o.v
		case "aud":
			err = setAudience(&c.Aud, name, val)
		case "exp":
			err = c.Exp.set(name, val)
		case "iat":
			err = c.Iat.set(name, val)
		case "nbf":
			err = c.Nbf.set(name, val)
		case "jti":
			err = o.set(name, val)
			c.Jti = o.v
		}
		return err
	})
}
