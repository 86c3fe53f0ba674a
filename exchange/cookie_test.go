package exchange_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkjwt/pkjwt/exchange"
	"github.com/pkjwt/pkjwt/provider"
	"github.com/pkjwt/pkjwt/provider/providertest"
)

func cookieKey(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

// browser carries cookies from responses to requests, like a user agent
// on one origin.
type browser struct{ jar map[string]*http.Cookie }

func (b *browser) request(target string) *http.Request {
	r := httptest.NewRequest("GET", target, nil)
	for _, c := range b.jar {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	return r
}

func (b *browser) take(w *httptest.ResponseRecorder) []*http.Cookie {
	if b.jar == nil {
		b.jar = map[string]*http.Cookie{}
	}
	cs := w.Result().Cookies()
	for _, c := range cs {
		if c.MaxAge < 0 {
			delete(b.jar, c.Name)
		} else {
			b.jar[c.Name] = c
		}
	}
	return cs
}

func TestTransactionCookies(t *testing.T) {
	t.Parallel()
	var now atomic.Pointer[time.Time]
	t0 := time.Now()
	now.Store(&t0)
	e := setup(t, providertest.Config{}, func(_ *provider.Provider, c *exchange.Config) {
		c.Now = func() time.Time { return *now.Load() }
	})
	tc, err := e.c.TransactionCookies([][]byte{cookieKey(1)})
	if err != nil {
		t.Fatal(err)
	}
	// Secure and the __Host- prefix follow the transaction's redirect URL,
	// whatever the request's origin (behind a reverse proxy, plain http to
	// a loopback address).
	for _, tt := range []struct {
		redirect, origin string
		secure           bool
	}{
		{redirectURL, "https://rp.example", true},
		{redirectURL, "http://127.0.0.1:8080", true},
		{redirectURL, "http://localhost:8080", true},
		{"http://127.0.0.1:8080/callback", "http://127.0.0.1:8080", false},
		{"http://localhost:8080/callback", "http://localhost:8080", false},
		{"http://[::1]:8080/callback", "https://rp.example", false},
		{"http://rp.example/callback", "http://rp.example", true},
		{"http://rp.example/callback", "http://127.0.0.1:8080", true},
	} {
		origin := tt.origin
		var b browser
		authURL, tx, err := e.c.AuthCodeURL(t.Context(), exchange.WithRedirectURL(tt.redirect))
		if err != nil {
			t.Fatal(err)
		}
		_, tx2, _ := e.c.AuthCodeURL(t.Context(), exchange.WithRedirectURL(tt.redirect)) // a second tab
		for _, x := range []exchange.Transaction{tx, tx2} {
			w := httptest.NewRecorder()
			if err := tc.Save(w, b.request(origin+"/login"), x); err != nil {
				t.Fatal(err)
			}
			cs := b.take(w)
			if len(cs) != 1 {
				t.Fatalf("Save set %d cookies", len(cs))
			}
			c := cs[0]
			if c.Secure != tt.secure || strings.HasPrefix(c.Name, "__Host-") != tt.secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.MaxAge != 600 || c.Domain != "" {
				t.Errorf("%s at %s: cookie %s, want Secure and __Host- %v", tt.redirect, origin, c.Name, tt.secure)
			}
			if strings.Contains(c.Value, x.Verifier) || strings.Contains(c.Value, x.State) {
				t.Errorf("%s: cookie shows the transaction", origin)
			}
		}
		query := "state=" + tx.State
		if tt.redirect == redirectURL {
			cb, err := e.op.Authorize(t.Context(), authURL)
			if err != nil {
				t.Fatal(err)
			}
			query = cb.RawQuery
		}
		w := httptest.NewRecorder()
		got, err := tc.Load(w, b.request(origin+"/callback?"+query), tx.State)
		if err != nil || got.Verifier != tx.Verifier {
			t.Fatalf("%s at %s: Load = %v", tt.redirect, origin, err)
		}
		if deleted := b.take(w); len(deleted) != 1 || deleted[0].MaxAge >= 0 || deleted[0].Secure != tt.secure {
			t.Errorf("%s: Load did not delete its cookie: %v", origin, deleted)
		}
		if tt.redirect == redirectURL {
			cb, _ := url.ParseQuery(query)
			if _, err := e.c.Callback(t.Context(), got, cb); err != nil {
				t.Fatalf("%s: Callback with the loaded transaction = %v", origin, err)
			}
		}
		// The cookie served one callback; the other tab's is still there.
		if _, err := tc.Load(httptest.NewRecorder(), b.request(origin+"/callback"), tx.State); !errors.Is(err, exchange.ErrInvalidTransaction) {
			t.Errorf("%s: second Load error = %v, want ErrInvalidTransaction", origin, err)
		}
		if got, err := tc.Load(httptest.NewRecorder(), b.request(origin+"/callback"), tx2.State); err != nil || got.Verifier != tx2.Verifier {
			t.Errorf("%s: Load of the second tab's transaction = %v", origin, err)
		}
	}
}

// TestTransactionCookiesRefused: tampered, swapped, expired, unknown and
// rotated-out cookies are ErrInvalidTransaction.
func TestTransactionCookiesRefused(t *testing.T) {
	t.Parallel()
	var now atomic.Pointer[time.Time]
	t0 := time.Now()
	now.Store(&t0)
	e := setup(t, providertest.Config{}, func(_ *provider.Provider, c *exchange.Config) {
		c.Now = func() time.Time { return *now.Load() }
	})
	old, err := e.c.TransactionCookies([][]byte{cookieKey(1)})
	if err != nil {
		t.Fatal(err)
	}
	rotated, _ := e.c.TransactionCookies([][]byte{cookieKey(2), cookieKey(1)})
	retired, _ := e.c.TransactionCookies([][]byte{cookieKey(2)})
	save := func(tc *exchange.TransactionCookies) (*browser, exchange.Transaction, *http.Cookie) {
		var b browser
		_, tx, _ := e.c.AuthCodeURL(t.Context())
		w := httptest.NewRecorder()
		if err := tc.Save(w, b.request("https://rp.example/login"), tx); err != nil {
			t.Fatal(err)
		}
		return &b, tx, b.take(w)[0]
	}
	load := func(tc *exchange.TransactionCookies, b *browser, state string) error {
		_, err := tc.Load(httptest.NewRecorder(), b.request("https://rp.example/callback"), state)
		return err
	}
	b, tx, c := save(old)
	if err := load(rotated, b, tx.State); err != nil {
		t.Errorf("Load with the old key second = %v", err)
	}
	if err := load(retired, b, tx.State); !errors.Is(err, exchange.ErrInvalidTransaction) {
		t.Errorf("Load after the key was retired = %v, want ErrInvalidTransaction", err)
	}
	if err := load(old, b, "another-state-of-sufficient-length"); !errors.Is(err, exchange.ErrInvalidTransaction) {
		t.Errorf("Load of an unknown state = %v", err)
	}
	for i := range []int{0, 10, len(c.Value) - 1} {
		v := []byte(c.Value)
		v[i] ^= 1
		tb := &browser{jar: map[string]*http.Cookie{c.Name: {Name: c.Name, Value: string(v)}}}
		if err := load(old, tb, tx.State); !errors.Is(err, exchange.ErrInvalidTransaction) {
			t.Errorf("Load of a cookie with byte %d flipped = %v", i, err)
		}
	}
	// Another transaction's sealed value under this transaction's name.
	_, _, c2 := save(old)
	swapped := &browser{jar: map[string]*http.Cookie{c.Name: {Name: c.Name, Value: c2.Value}}}
	if err := load(old, swapped, tx.State); !errors.Is(err, exchange.ErrInvalidTransaction) {
		t.Errorf("Load of a swapped cookie = %v", err)
	}
	huge := &browser{jar: map[string]*http.Cookie{c.Name: {Name: c.Name, Value: strings.Repeat("A", 5000)}}}
	if err := load(old, huge, tx.State); !errors.Is(err, exchange.ErrInvalidTransaction) {
		t.Errorf("Load of a huge cookie = %v", err)
	}
	t1 := t0.Add(exchange.DefaultTransactionMaxAgeForTest + time.Second)
	now.Store(&t1)
	if err := load(old, b, tx.State); !errors.Is(err, exchange.ErrTransactionExpiredForTest) {
		t.Errorf("Load of an expired transaction = %v, want the expired cause", err)
	}
	now.Store(&t0)
	for name, keys := range map[string][][]byte{
		"no key":     nil,
		"short key":  {make([]byte, 31)},
		"nine keys":  {cookieKey(1), cookieKey(2), cookieKey(3), cookieKey(4), cookieKey(5), cookieKey(6), cookieKey(7), cookieKey(8), cookieKey(9)},
		"a long key": {make([]byte, 64)},
	} {
		if _, err := e.c.TransactionCookies(keys); !errors.Is(err, exchange.ErrInvalidConfig) {
			t.Errorf("TransactionCookies(%s) error = %v, want ErrInvalidConfig", name, err)
		}
	}
	if s := fmt.Sprintf("%v %+v %#v", old, old, old); strings.Contains(s, string(cookieKey(1))) || strings.Contains(s, "\\x01\\x01") {
		t.Errorf("a TransactionCookies prints its key: %s", s)
	}
}

// TestTransactionCookiesBounded: abandoned logins do not pile up cookies
// (about 500 bytes each) until the Cookie header passes the 8 KiB proxies
// accept: Save keeps the 4 newest transaction cookies, expires the others
// and any that does not open, and leaves other cookies alone.
func TestTransactionCookiesBounded(t *testing.T) {
	t.Parallel()
	var now atomic.Pointer[time.Time]
	t0 := time.Now()
	now.Store(&t0)
	e := setup(t, providertest.Config{}, func(_ *provider.Provider, c *exchange.Config) {
		c.Now = func() time.Time { return *now.Load() }
	})
	tc, err := e.c.TransactionCookies([][]byte{cookieKey(1)})
	if err != nil {
		t.Fatal(err)
	}
	retired, _ := e.c.TransactionCookies([][]byte{cookieKey(2)})
	b := &browser{jar: map[string]*http.Cookie{
		"session":              {Name: "session", Value: "keep-me"},
		"pkjwt-tx-garbage":     {Name: "pkjwt-tx-garbage", Value: "not-sealed"},
		"__Host-pkjwt-tx-junk": {Name: "__Host-pkjwt-tx-junk", Value: strings.Repeat("A", 100)},
	}}
	// A cookie sealed with a key since retired.
	_, old, _ := e.c.AuthCodeURL(t.Context())
	w := httptest.NewRecorder()
	if err := retired.Save(w, b.request("https://rp.example/login"), old); err != nil {
		t.Fatal(err)
	}
	b.take(w)
	txCookies := func() int {
		n := 0
		for name := range b.jar {
			if strings.Contains(name, "pkjwt-tx-") {
				n++
			}
		}
		return n
	}
	var txs []exchange.Transaction
	for i := range 20 {
		ti := t0.Add(time.Duration(i) * time.Second)
		now.Store(&ti)
		_, tx, err := e.c.AuthCodeURL(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		txs = append(txs, tx)
		w := httptest.NewRecorder()
		if err := tc.Save(w, b.request("https://rp.example/login"), tx); err != nil {
			t.Fatal(err)
		}
		b.take(w)
		if n := txCookies(); n > 4 {
			t.Fatalf("after %d logins the browser holds %d transaction cookies, want at most 4", i+1, n)
		}
	}
	if h := b.request("https://rp.example/").Header.Get("Cookie"); len(h) > 3<<10 {
		t.Errorf("Cookie header of %d bytes after 20 abandoned logins", len(h))
	}
	if b.jar["session"] == nil {
		t.Error("Save expired a cookie that is not a transaction cookie")
	}
	// The 4 newest logins can finish; the older ones cannot.
	for i, tx := range txs {
		_, err := tc.Load(httptest.NewRecorder(), b.request("https://rp.example/callback"), tx.State)
		if newest := i >= len(txs)-4; (err == nil) != newest {
			t.Errorf("login %d of %d: Load error = %v", i+1, len(txs), err)
		}
	}
}
