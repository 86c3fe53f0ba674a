package exchange_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
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
	for _, origin := range []string{"https://rp.example", "http://127.0.0.1:8080", "http://localhost:8080", "http://rp.example"} {
		var b browser
		authURL, tx, err := e.c.AuthCodeURL(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		_, tx2, _ := e.c.AuthCodeURL(t.Context()) // a second tab
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
			loopback := !strings.HasPrefix(origin, "https") && !strings.Contains(origin, "rp.example")
			if c.Secure == loopback || strings.HasPrefix(c.Name, "__Host-") == loopback || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.MaxAge != 600 || c.Domain != "" {
				t.Errorf("%s: cookie %s", origin, c)
			}
			if strings.Contains(c.Value, x.Verifier) || strings.Contains(c.Value, x.State) {
				t.Errorf("%s: cookie shows the transaction", origin)
			}
		}
		cb, err := e.op.Authorize(t.Context(), authURL)
		if err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		got, err := tc.Load(w, b.request(origin+"/callback?"+cb.RawQuery), cb.Query().Get("state"))
		if err != nil {
			t.Fatalf("%s: Load = %v", origin, err)
		}
		if deleted := b.take(w); len(deleted) != 1 || deleted[0].MaxAge >= 0 {
			t.Errorf("%s: Load did not delete its cookie: %v", origin, deleted)
		}
		if _, err := e.c.Callback(t.Context(), got, cb.Query()); err != nil {
			t.Fatalf("%s: Callback with the loaded transaction = %v", origin, err)
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
