package jose

import (
	"unicode/utf16"
	"unicode/utf8"

	gojson "github.com/go-jose/go-jose/v4/json"
)

// MaxDepth bounds the nesting of objects and arrays in a document. Real
// tokens and metadata nest a few levels; the bound keeps the recursion of the
// reader small whatever the input.
const MaxDepth = 64

// namesOnStack is how many member names of one object are compared by a
// linear scan before the reader switches to a map, so that an object with
// many members costs O(n), not O(n²).
const namesOnStack = 16

// Object reads data as one JSON object (RFC 8259), in one validating pass,
// under the module's rule: a member name that occurs twice in an object, at
// any level and compared after unescaping, makes the document malformed;
// names are case-sensitive ("ALG" is not "alg"); nesting is at most MaxDepth.
// It calls fn, when not nil, with each top-level member's unescaped name and
// raw value, in document order. name aliases data unless it had escapes; val
// always aliases data. An error from fn stops the walk and is returned as is;
// any other error wraps ErrMalformed.
func Object(data []byte, fn func(name, val []byte) error) error {
	r := reader{data: data}
	r.space()
	if r.i >= len(r.data) || r.data[r.i] != '{' {
		return malformed("not a JSON object")
	}
	if err := r.object(0, fn); err != nil {
		return err
	}
	r.space()
	if r.i != len(r.data) {
		return malformed("data after the JSON object")
	}
	return nil
}

// Unmarshal reads data with Object and then decodes it into v with a
// reflection decoder that keeps the same rule (go-jose's JSON package:
// member names matched case-sensitively, repeated names refused), so that a
// caller's struct sees exactly the members the reader saw. Errors wrap
// ErrMalformed; a type mismatch names the member, never its value.
func Unmarshal(data []byte, v any) error {
	if err := Object(data, nil); err != nil {
		return err
	}
	if err := gojson.Unmarshal(data, v); err != nil {
		if te, ok := err.(*gojson.UnmarshalTypeError); ok {
			return malformed("a member is a JSON " + te.Value + ", not " + te.Type.String())
		}
		return malformed("does not decode into " + typeName(v))
	}
	return nil
}

type reader struct {
	data []byte
	i    int
}

func (r *reader) space() {
	for r.i < len(r.data) {
		switch r.data[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// object reads the object at r.i ('{'). fn, when not nil, receives its
// members.
func (r *reader) object(depth int, fn func(name, val []byte) error) error {
	if depth >= MaxDepth {
		return malformed("nested deeper than 64 levels")
	}
	r.i++ // '{'
	r.space()
	if r.i < len(r.data) && r.data[r.i] == '}' {
		r.i++
		return nil
	}
	var stack [namesOnStack][]byte
	names := stack[:0]
	var seen map[string]struct{}
	for {
		if r.i >= len(r.data) || r.data[r.i] != '"' {
			return malformed("member name is not a string")
		}
		start := r.i
		plain, err := r.str()
		if err != nil {
			return err
		}
		name := r.data[start+1 : r.i-1]
		if !plain {
			name = unquote(name)
		}
		switch {
		case seen != nil:
			if _, dup := seen[string(name)]; dup {
				return duplicate(name)
			}
			seen[string(name)] = struct{}{}
		case len(names) < namesOnStack:
			for _, n := range names {
				if string(n) == string(name) {
					return duplicate(name)
				}
			}
			names = append(names, name)
		default:
			seen = make(map[string]struct{}, 2*namesOnStack)
			for _, n := range names {
				seen[string(n)] = struct{}{}
			}
			if _, dup := seen[string(name)]; dup {
				return duplicate(name)
			}
			seen[string(name)] = struct{}{}
		}
		r.space()
		if r.i >= len(r.data) || r.data[r.i] != ':' {
			return malformed("member name without a colon")
		}
		r.i++
		r.space()
		vstart := r.i
		if err := r.value(depth + 1); err != nil {
			return err
		}
		if fn != nil {
			if err := fn(name, r.data[vstart:r.i]); err != nil {
				return err
			}
		}
		r.space()
		if r.i >= len(r.data) {
			return malformed("unterminated object")
		}
		switch r.data[r.i] {
		case ',':
			r.i++
			r.space()
		case '}':
			r.i++
			return nil
		default:
			return malformed("members not separated by a comma")
		}
	}
}

// value reads one JSON value at r.i.
func (r *reader) value(depth int) error {
	if r.i >= len(r.data) {
		return malformed("value missing")
	}
	switch c := r.data[r.i]; {
	case c == '{':
		return r.object(depth, nil)
	case c == '[':
		return r.array(depth)
	case c == '"':
		_, err := r.str()
		return err
	case c == '-' || ('0' <= c && c <= '9'):
		return r.number()
	case c == 't':
		return r.literal("true")
	case c == 'f':
		return r.literal("false")
	case c == 'n':
		return r.literal("null")
	}
	return malformed("invalid value")
}

func (r *reader) array(depth int) error {
	if depth >= MaxDepth {
		return malformed("nested deeper than 64 levels")
	}
	r.i++ // '['
	r.space()
	if r.i < len(r.data) && r.data[r.i] == ']' {
		r.i++
		return nil
	}
	for {
		if err := r.value(depth + 1); err != nil {
			return err
		}
		r.space()
		if r.i >= len(r.data) {
			return malformed("unterminated array")
		}
		switch r.data[r.i] {
		case ',':
			r.i++
			r.space()
		case ']':
			r.i++
			return nil
		default:
			return malformed("array elements not separated by a comma")
		}
	}
}

func (r *reader) literal(lit string) error {
	if len(r.data)-r.i < len(lit) || string(r.data[r.i:r.i+len(lit)]) != lit {
		return malformed("invalid literal")
	}
	r.i += len(lit)
	return nil
}

// number reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (r *reader) number() error {
	d := r.data
	i := r.i
	if d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && '1' <= d[i] && d[i] <= '9':
		for i++; i < len(d) && '0' <= d[i] && d[i] <= '9'; i++ {
		}
	default:
		return malformed("invalid number")
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return malformed("invalid number")
		}
		for ; i < len(d) && '0' <= d[i] && d[i] <= '9'; i++ {
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return malformed("invalid number")
		}
		for ; i < len(d) && '0' <= d[i] && d[i] <= '9'; i++ {
		}
	}
	r.i = i
	return nil
}

// str reads the string at r.i ('"') and reports whether its inside is plain:
// no escape and no byte outside ASCII, so it needs no decoding.
func (r *reader) str() (plain bool, err error) {
	d := r.data
	plain = true
	for i := r.i + 1; i < len(d); i++ {
		c := d[i]
		switch {
		case c == '"':
			r.i = i + 1
			return plain, nil
		case c == '\\':
			plain = false
			i++
			if i >= len(d) {
				return false, malformed("unterminated string")
			}
			switch d[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(d) || !isHex(d[i+1]) || !isHex(d[i+2]) || !isHex(d[i+3]) || !isHex(d[i+4]) {
					return false, malformed("invalid \\u escape in a string")
				}
				i += 4
			default:
				return false, malformed("invalid escape in a string")
			}
		case c < 0x20:
			return false, malformed("control character in a string")
		case c >= 0x80:
			plain = false
		}
	}
	return false, malformed("unterminated string")
}

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

// unquote decodes the inside of a valid JSON string as encoding/json and
// go-jose's decoder do: escapes resolved, surrogate pairs joined, a lone
// surrogate or an invalid UTF-8 byte replaced by U+FFFD.
func unquote(in []byte) []byte {
	out := make([]byte, 0, len(in))
	for i := 0; i < len(in); {
		c := in[i]
		switch {
		case c == '\\':
			e := in[i+1]
			i += 2
			switch e {
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r1 := hex4(in[i:])
				i += 4
				if utf16.IsSurrogate(r1) {
					if i+6 <= len(in) && in[i] == '\\' && in[i+1] == 'u' {
						if r := utf16.DecodeRune(r1, hex4(in[i+2:])); r != utf8.RuneError {
							i += 6
							out = utf8.AppendRune(out, r)
							continue
						}
					}
					r1 = utf8.RuneError
				}
				out = utf8.AppendRune(out, r1)
			default: // '"', '\\', '/'
				out = append(out, e)
			}
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(in[i:])
			out = utf8.AppendRune(out, r)
			i += size
		}
	}
	return out
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		default:
			c = c - 'A' + 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// The value readers below take a raw value that Object has validated.

// String returns the string a raw JSON value holds; ok is false when the
// value is not a string.
func String(val []byte) (s string, ok bool) {
	b, ok := Bytes(val)
	return string(b), ok
}

// Bytes is String without an allocation when the string needs no decoding:
// the result then aliases val.
func Bytes(val []byte) ([]byte, bool) {
	if len(val) < 2 || val[0] != '"' {
		return nil, false
	}
	inner := val[1 : len(val)-1]
	for _, c := range inner {
		if c == '\\' || c >= utf8.RuneSelf {
			return unquote(inner), true
		}
	}
	return inner, true
}

// Strings returns the strings of a raw JSON array of strings; ok is false
// for any other value.
func Strings(val []byte) (l []string, ok bool) {
	if len(val) < 2 || val[0] != '[' {
		return nil, false
	}
	r := reader{data: val, i: 1}
	r.space()
	if val[r.i] == ']' {
		return []string{}, true
	}
	for {
		start := r.i
		if val[r.i] != '"' {
			return nil, false
		}
		if _, err := r.str(); err != nil {
			return nil, false
		}
		s, _ := String(val[start:r.i])
		l = append(l, s)
		r.space()
		if val[r.i] == ']' {
			return l, true
		}
		r.i++ // ','
		r.space()
	}
}

// Elements returns the raw elements of a raw JSON array; ok is false for
// any other value.
func Elements(val []byte) (l [][]byte, ok bool) {
	if len(val) < 2 || val[0] != '[' {
		return nil, false
	}
	r := reader{data: val, i: 1}
	r.space()
	if val[r.i] == ']' {
		return [][]byte{}, true
	}
	for {
		start := r.i
		if r.value(0) != nil {
			return nil, false
		}
		l = append(l, val[start:r.i])
		r.space()
		if r.i >= len(val) {
			return nil, false
		}
		if val[r.i] == ']' {
			return l, true
		}
		r.i++ // ','
		r.space()
	}
}

// IsNull reports whether a raw JSON value is null.
func IsNull(val []byte) bool { return string(val) == "null" }
