package exchange

import (
	"bytes"
	"net/http/httptest"
	"testing"
	"time"
)

// FuzzChallengeParams: the WWW-Authenticate reader never panics and keeps
// its names lowercase.
func FuzzChallengeParams(f *testing.F) {
	for _, s := range []string{
		`Bearer realm="x", error="invalid_token", error_description="expired"`,
		`Bearer error="a\"b"`, `Bearer error=`, `Bearer ="x"`, `DPoP algs="ES256", error="use_dpop_nonce"`,
		`Bearer error="unterminated`, `Bearer`, ``, `Bearer a=b,,c=d, Basic realm="y"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		for k := range challengeParams(h) {
			for _, r := range k {
				if 'A' <= r && r <= 'Z' {
					t.Fatalf("name %q not lowercased", k)
				}
			}
		}
	})
}

// FuzzIntrospection: an introspection answer is parsed or refused with
// ErrMalformedResponse, never a panic; an inactive answer carries nothing
// else.
func FuzzIntrospection(f *testing.F) {
	for _, s := range []string{
		`{"active":false}`, `{"active":true,"aud":["a"],"exp":1e300}`, `{"active":true,"iat":-1}`,
		`{"active":true,"sub":"a","sub":"b"}`, `[]`, `{"active":null}`, `{"active":true,"aud":[null]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := parseIntrospection(b)
		if err != nil {
			return
		}
		if !in.Active && (in.Subject != "" || in.Audience != nil || !in.Expiry.IsZero()) {
			t.Fatalf("inactive answer with fields: %+v", in)
		}
	})
}

// FuzzTransactionCookie: a cookie value from the network never opens
// without the key and never panics the reader.
func FuzzTransactionCookie(f *testing.F) {
	c := &Client{now: time.Now, txMaxAge: defaultTransactionMaxAge}
	tc, err := c.TransactionCookies([][]byte{make([]byte, 32)})
	if err != nil {
		f.Fatal(err)
	}
	const state = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"
	w := httptest.NewRecorder()
	if err := tc.Save(w, httptest.NewRequest("GET", "https://rp.example/login", nil), Transaction{State: state, Created: time.Now()}); err != nil {
		f.Fatal(err)
	}
	f.Add(w.Result().Cookies()[0].Value)
	f.Add("")
	f.Add("AAAA")
	other, _ := c.TransactionCookies([][]byte{bytes.Repeat([]byte{1}, 32)})
	f.Fuzz(func(t *testing.T, v string) {
		r := httptest.NewRequest("GET", "https://rp.example/callback", nil)
		r.Header.Set("Cookie", cookieName(state, true)+"="+v)
		if _, err := other.Load(httptest.NewRecorder(), r, state); err == nil {
			t.Fatal("a cookie opened without its key")
		}
		tc.Load(httptest.NewRecorder(), r, state)
	})
}
