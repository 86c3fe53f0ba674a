package jose

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	gojose "github.com/go-jose/go-jose/v4"
	gojson "github.com/go-jose/go-jose/v4/json"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/pkjwt/pkjwt/internal/testkeys"
)

// depthOver reports whether data nests brackets deeper than n, counting
// outside strings only roughly (enough to skip the cases the other decoders
// do not bound).
func depthOver(data []byte, n int) bool {
	d := 0
	for _, c := range data {
		switch c {
		case '{', '[':
			if d++; d > n {
				return true
			}
		case '}', ']':
			d--
		}
	}
	return false
}

// FuzzObject checks the reader against go-jose's JSON decoder, which keeps
// the same rule (case-sensitive names, repeated names refused): they accept
// the same objects, and the reader never accepts what encoding/json calls
// invalid.
func FuzzObject(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1}`, `{"a":1,"a":2}`, `{"a":{"b":[1,{"c":2,"c":3}]}}`, `{"\u0061":1,"a":2}`, "{\"\xff\":1,\"\xfe\":1}", `{"\ud800":1,"\udbff":1}`, `{"a":"\ud800\udc00"}`, `{"a":1e5,"b":-0.5,"c":true,"d":null}`, `[1]`, `{"a":01}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := Object(data, nil)
		if err == nil && !json.Valid(data) {
			t.Fatalf("Object accepted %q, which encoding/json calls invalid", data)
		}
		if depthOver(data, MaxDepth-2) {
			return
		}
		var m map[string]any
		gerr := gojson.Unmarshal(data, &m)
		isObj := len(bytes.TrimLeft(data, " \t\r\n")) > 0 && bytes.TrimLeft(data, " \t\r\n")[0] == '{'
		if (err == nil) != (gerr == nil && isObj) {
			t.Fatalf("Object(%q) = %v, go-jose json = %v", data, err, gerr)
		}
		if err != nil {
			return
		}
		// The walker's top-level view equals go-jose's decoded map.
		seen := 0
		Object(data, func(name, val []byte) error {
			seen++
			var v any
			if err := gojson.Unmarshal(val, &v); err != nil {
				t.Fatalf("member %q value %q does not decode: %v", name, val, err)
			}
			if gv, ok := m[string(name)]; !ok || !reflect.DeepEqual(gv, v) {
				t.Fatalf("member %q = %#v, go-jose has %#v (present %v)", name, v, gv, ok)
			}
			if s, ok := String(val); ok && s != m[string(name)] {
				t.Fatalf("String(%q) = %q, go-jose has %q", val, s, m[string(name)])
			}
			return nil
		})
		if seen != len(m) {
			t.Fatalf("walker saw %d members, go-jose %d", seen, len(m))
		}
	})
}

// FuzzDifferential signs arbitrary headers and claims and checks that
// whenever the reader accepts a token, go-jose accepts it too with the same
// claim values; a repeated member name is refused by both.
func FuzzDifferential(f *testing.F) {
	for _, s := range [][2]string{
		{`{"alg":"ES256"}`, `{"sub":"alice"}`},
		{`{"alg":"ES256","kid":"k1","typ":"JWT"}`, `{"sub":"alice","aud":["a","b"],"exp":1e9}`},
		{`{"alg":"ES256"}`, `{"sub":"alice","sub":"mallory"}`},
		{`{"alg":"ES256","alg":"ES256"}`, `{"sub":"alice"}`},
		{`{"alg":"ES256"}`, `{"sub":"alice","\u0073ub":"mallory"}`},
		{`{"alg":"ES256"}`, `{"sub":"alice","SUB":"mallory"}`},
		{`{"ALG":"ES256"}`, `{"sub":"alice"}`},
		{`{"alg":"ES256"}`, `{"n":{"x":1,"x":2}}`},
		{`{"alg":"ES256"}`, `{"s":"\ud83d\ude00\u00e9\""}`},
	} {
		f.Add([]byte(s[0]), []byte(s[1]))
	}
	key := testkeys.Signer(testkeys.P256A)
	allow := []string{"ES256"}
	f.Fuzz(func(t *testing.T, header, payload []byte) {
		if len(header) == 0 || len(payload) == 0 || len(header) > 512 || len(payload) > 4096 {
			return
		}
		tok := sign(t, key, "ES256", string(header), string(payload))
		parsed, err := Parse(tok, 32<<10, allow)
		if err == nil {
			err = Verify(&parsed, []testKey{{key.Public(), ""}}, keyOf)
		}
		var claims map[string]any
		if err == nil {
			err = Object(parsed.Payload, nil)
		}
		gtok, gerr := jwt.ParseSigned(tok, []gojose.SignatureAlgorithm{gojose.ES256})
		var gclaims map[string]any
		if gerr == nil {
			gerr = gtok.Claims(key.Public(), &gclaims)
		}
		if err == nil {
			// go-jose reads header members the reader ignores (jwk, x5c,
			// b64 ...) and refuses malformed ones: compare only headers
			// made of the members both read alike.
			plain := true
			Object(header, func(name, _ []byte) error {
				switch string(name) {
				case "alg", "kid", "typ", "cty":
				default:
					plain = false
				}
				return nil
			})
			if !plain {
				return
			}
			if gerr != nil {
				t.Fatalf("reader accepted header %q payload %q; go-jose refused: %v", header, payload, gerr)
			}
			if err := Unmarshal(parsed.Payload, &claims); err != nil {
				t.Fatalf("Unmarshal after Object: %v", err)
			}
			if !reflect.DeepEqual(claims, gclaims) {
				t.Fatalf("claims %#v, go-jose %#v", claims, gclaims)
			}
			Object(parsed.Payload, func(name, val []byte) error {
				if s, ok := String(val); ok && s != gclaims[string(name)] {
					t.Fatalf("claim %q = %q, go-jose %q", name, s, gclaims[string(name)])
				}
				return nil
			})
		}
		// A valid JSON object that the reader refuses for its rule (a
		// repeated name) is refused by go-jose too.
		trimmed := bytes.TrimLeft(payload, " \t\r\n")
		if json.Valid(payload) && trimmed[0] == '{' && !depthOver(payload, MaxDepth-2) && Object(payload, nil) != nil && gerr == nil {
			t.Fatalf("payload %q: the reader refuses it, go-jose accepted it", payload)
		}
	})
}
