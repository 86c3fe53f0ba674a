package provider

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestDecodeIDClaims(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		iss     string
		aud     []string
		nonce   optString
		exp     optNumber
		wantErr error
	}{
		{name: "plain", in: `{"iss":"a","aud":"c","nonce":"n","exp":5}`, iss: "a", aud: []string{"c"}, nonce: optString{"n", true}, exp: optNumber{5, true}},
		{name: "escaped name and value", in: `{"i\u0073s":"a\/b","aud":["c","d"]}`, iss: "a/b", aud: []string{"c", "d"}},
		{name: "repeated member is malformed", in: `{"iss":"a","iss":"b"}`, wantErr: ErrMalformedToken},
		{name: "repeated after unescaping", in: `{"sub":"alice","\u0073ub":"mallory"}`, wantErr: ErrMalformedToken},
		{name: "repeated in a nested object", in: `{"iss":"a","address":{"country":"NO","country":"SE"}}`, wantErr: ErrMalformedToken},
		{name: "names are case-sensitive", in: `{"ISS":"a","Nonce":"n"}`},
		{name: "null is absent", in: `{"nonce":null,"exp":null,"iss":null}`},
		{name: "nested values skipped", in: ` { "x" : {"y":["}",{"z":"\"]"}]} , "iss" : "a" , "e":[[]] } `, iss: "a"},
		{name: "fraction and exponent", in: `{"exp":1.5e3}`, exp: optNumber{1500, true}},
		{name: "exp a string", in: `{"exp":"5"}`, wantErr: ErrMalformedToken},
		{name: "exp a bool", in: `{"exp":true}`, wantErr: ErrMalformedToken},
		{name: "iss a number", in: `{"iss":5}`, wantErr: ErrMalformedToken},
		{name: "aud an object", in: `{"aud":{}}`, wantErr: ErrMalformedToken},
		{name: "aud array of numbers", in: `{"aud":[1]}`, wantErr: ErrMalformedToken},
		{name: "not an object", in: `["iss"]`, wantErr: ErrMalformedToken},
		{name: "trailing garbage", in: `{"iss":"a"} x`, wantErr: ErrMalformedToken},
		{name: "two objects", in: `{}{}`, wantErr: ErrMalformedToken},
		{name: "invalid escape", in: `{"iss":"\x"}`, wantErr: ErrMalformedToken},
		{name: "raw control character", in: "{\"iss\":\"a\x01\"}", wantErr: ErrMalformedToken},
		{name: "empty object", in: `{}`},
		{name: "64 levels", in: `{"x":` + strings.Repeat("[", 63) + strings.Repeat("]", 63) + `,"iss":"a"}`, iss: "a"},
		{name: "65 levels", in: `{"x":` + strings.Repeat("[", 64) + strings.Repeat("]", 64) + `}`, wantErr: ErrMalformedToken},
		{name: "brackets in strings do not count", in: `{"x":"` + strings.Repeat("[", 100) + `\"","iss":"a"}`, iss: "a"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var c idClaims
			err := decodeIDClaims([]byte(tc.in), &c)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("decodeIDClaims(%q) error = %v, want %v", tc.in, err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if string(c.Iss.v) != tc.iss || c.Nonce != tc.nonce || c.Exp != tc.exp || len(c.Aud) != len(tc.aud) {
				t.Fatalf("decodeIDClaims(%q) = %+v", tc.in, c)
			}
			for i := range tc.aud {
				if c.Aud[i] != tc.aud[i] {
					t.Fatalf("decodeIDClaims(%q) aud = %q, want %q", tc.in, c.Aud, tc.aud)
				}
			}
		})
	}
}

// FuzzDecodeClaims checks the member walker against encoding/json: for
// every document both accept, the string claims agree (so what is verified
// is what IDToken.Claims later decodes), and the walker never accepts what
// encoding/json refuses.
func FuzzDecodeClaims(f *testing.F) {
	f.Add([]byte(`{"iss":"a","sub":"s","aud":["c"],"nonce":"n","exp":1}`))
	f.Add([]byte(`{"i\u0073s":"a","iss":"b","x":{"iss":"c"}}`))
	f.Add([]byte(`{"sub":"\ud83d\ude00","sid":"\u0000"}`))
	f.Add([]byte(`{"iss":"\ud800"}`))
	f.Add([]byte(`{"iss":5}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var c idClaims
		err := decodeIDClaims(data, &c)
		var m map[string]any
		jerr := json.Unmarshal(data, &m)
		if jerr != nil || m == nil {
			if err == nil {
				t.Fatalf("walker accepted %q, encoding/json refused it: %v", data, jerr)
			}
			return
		}
		if err != nil {
			return // a claim of the wrong type
		}
		for name, got := range map[string]string{"iss": string(c.Iss.v), "sub": c.Sub, "azp": c.Azp, "sid": c.Sid, "nonce": c.Nonce.v} {
			want, _ := m[name].(string)
			if got != want {
				t.Fatalf("%s: walker %q, encoding/json %q in %q", name, got, want, data)
			}
		}
	})
}
