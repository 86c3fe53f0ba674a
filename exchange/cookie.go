package exchange

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/pkjwt/pkjwt/internal/jose"
)

const (
	// maxCookieKeys bounds the keys of a TransactionCookies: the current
	// one and a few old ones during rotation.
	maxCookieKeys = 8
	// maxCookieValue bounds a sealed transaction cookie's value, so that
	// name, value and attributes stay within the 4096 bytes browsers keep.
	maxCookieValue = 3800
	// cookieIDBytes is the length of the per-transaction part of a cookie
	// name, from a hash of the state.
	cookieIDBytes = 12
	// maxTransactionCookies bounds the transaction cookies a browser
	// keeps: each is about 500 bytes, and abandoned logins would otherwise
	// pile up for Config.TransactionMaxAge until the Cookie header passes
	// the 8 KiB many proxies accept.
	maxTransactionCookies = 4
	// cookiePrefix and hostCookiePrefix start the name of every
	// transaction cookie.
	cookiePrefix     = "pkjwt-tx-"
	hostCookiePrefix = "__Host-" + cookiePrefix
)

// TransactionCookies keeps each login's [Transaction] in its own sealed
// cookie instead of a server-side store, so that any replica of an
// application can finish a login and no count of anonymous login starts
// can fill anything on the server. Make one with
// [Client.TransactionCookies]; it is safe for concurrent use.
//
// A cookie is sealed with AES-256-GCM (the first key seals, every key
// opens, for rotation), bound to its name, and named after its
// transaction's state, so that logins started in parallel tabs each keep
// theirs. It has the __Host- prefix, Path=/, HttpOnly, SameSite=Lax
// (the callback is a top-level GET from the provider), Secure and a Max-Age
// of Config.TransactionMaxAge. Secure and the prefix follow the
// transaction's redirect URL, not the request (which, behind a reverse
// proxy, may come over plain http to a loopback address): they are left
// out only for an http redirect URL on a loopback host (a development
// server), as browsers keep neither on plain http. A browser keeps at most
// 4 transaction cookies: [TransactionCookies.Save] expires the oldest.
type TransactionCookies struct {
	// aeads yields the ciphers, first the sealing one. A function, so
	// that printing a TransactionCookies never reaches key material.
	aeads       func() []cipher.AEAD
	now         func() time.Time
	maxAge      time.Duration
	redirectURL string // the Client's, for a transaction that records none
}

// TransactionCookies returns a [TransactionCookies] for this client's
// transactions, sealed with keys: each 32 random bytes (AES-256), kept
// secret and shared by every replica; the first seals, all open. To rotate,
// put a new key first and drop the old one after Config.TransactionMaxAge.
// It does no I/O.
//
// Errors: ErrInvalidConfig for no key, more than 8, or a key that is not
// 32 bytes long.
func (c *Client) TransactionCookies(keys [][]byte) (*TransactionCookies, error) {
	if len(keys) == 0 || len(keys) > maxCookieKeys {
		return nil, fmt.Errorf("exchange: TransactionCookies needs 1 to %d keys, got %d: %w", maxCookieKeys, len(keys), ErrInvalidConfig)
	}
	aeads := make([]cipher.AEAD, 0, len(keys))
	for i, k := range keys {
		if len(k) != 32 {
			return nil, fmt.Errorf("exchange: TransactionCookies key %d has %d bytes, want 32 random bytes: %w", i, len(k), ErrInvalidConfig)
		}
		b, err := aes.NewCipher(k) // copies the key
		if err != nil {
			return nil, fmt.Errorf("exchange: TransactionCookies key %d: %v: %w", i, err, ErrInvalidConfig)
		}
		g, err := cipher.NewGCM(b)
		if err != nil {
			return nil, fmt.Errorf("exchange: TransactionCookies key %d: %v: %w", i, err, ErrInvalidConfig)
		}
		aeads = append(aeads, g)
	}
	return &TransactionCookies{aeads: func() []cipher.AEAD { return aeads }, now: c.now, maxAge: c.txMaxAge, redirectURL: c.redirectURL}, nil
}

// Save seals tx into a new cookie on w, for the login r starts. Call it
// before redirecting to the URL of [Client.AuthCodeURL]. It keeps at most
// 4 transaction cookies in the browser: of those r carries, it expires the
// oldest beyond the new one's 3 companions, and any that does not open
// with the keys (tampered, or sealed with a retired key). It does no I/O.
//
// Errors: ErrInvalidTransaction for a transaction without a state, or one
// too large for a cookie (a redirect URL of kilobytes).
func (tc *TransactionCookies) Save(w http.ResponseWriter, r *http.Request, tx Transaction) error {
	if len(tx.State) < 22 {
		return fmt.Errorf("exchange: transaction state is missing or shorter than 128 bits: %w", ErrInvalidTransaction)
	}
	secure := tc.secure(tx)
	name := cookieName(tx.State, secure)
	plain, err := json.Marshal(tx)
	if err != nil {
		return fmt.Errorf("exchange: encode transaction: %v: %w", err, ErrInvalidTransaction)
	}
	g := tc.aeads()[0]
	nonce := make([]byte, g.NonceSize(), g.NonceSize()+len(plain)+g.Overhead())
	_, _ = rand.Read(nonce)
	value := base64.RawURLEncoding.EncodeToString(g.Seal(nonce, nonce, plain, []byte(name)))
	if len(value) > maxCookieValue {
		return fmt.Errorf("exchange: sealed transaction is %d bytes, over the %d a cookie can hold: %w", len(value), maxCookieValue, ErrInvalidTransaction)
	}
	tc.prune(w, r, name)
	http.SetCookie(w, &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		MaxAge:   int(tc.maxAge / time.Second),
		Secure:   secure,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	})
	return nil
}

// prune expires the transaction cookies of r beyond the
// maxTransactionCookies-1 newest that open (keeping room for the cookie
// named keep, which Save is about to set), and every one that does not
// open.
func (tc *TransactionCookies) prune(w http.ResponseWriter, r *http.Request, keep string) {
	type live struct {
		name    string
		created time.Time
	}
	var open []live
	seen := map[string]bool{keep: true}
	for _, ck := range r.Cookies() {
		if !strings.HasPrefix(ck.Name, cookiePrefix) && !strings.HasPrefix(ck.Name, hostCookiePrefix) || seen[ck.Name] {
			continue
		}
		seen[ck.Name] = true
		if tx, err := tc.open(ck); err == nil {
			open = append(open, live{ck.Name, tx.Created})
			continue
		}
		expireCookie(w, ck.Name)
	}
	if len(open) < maxTransactionCookies {
		return
	}
	slices.SortFunc(open, func(a, b live) int { return b.created.Compare(a.created) }) // newest first
	for _, l := range open[maxTransactionCookies-1:] {
		expireCookie(w, l.name)
	}
}

// expireCookie deletes the transaction cookie name on w.
func expireCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, Secure: strings.HasPrefix(name, "__Host-"), HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// Load opens the cookie of the transaction whose state the callback r
// carries (pass r.URL.Query().Get("state")) and deletes it on w, so that a
// transaction serves one callback. Pass the result to [Client.Callback],
// which checks the state, the issuer and the age again. It does no I/O.
//
// Errors: ErrInvalidTransaction when there is no such cookie (another
// browser, an expired or finished login, a forged state), or it does not
// open with any key (tampered, or sealed with a retired key), or it holds
// another state, or it is older than Config.TransactionMaxAge.
func (tc *TransactionCookies) Load(w http.ResponseWriter, r *http.Request, state string) (Transaction, error) {
	if state == "" || len(state) > 256 {
		return Transaction{}, fmt.Errorf("exchange: the callback has no usable state to find its transaction cookie by: %w", ErrInvalidTransaction)
	}
	// The cookie's name tells whether it was saved as Secure; which one
	// it should be follows from the redirect URL sealed in it.
	secure := true
	name := cookieName(state, secure)
	ck, err := r.Cookie(name)
	if err != nil {
		secure = false
		name = cookieName(state, secure)
		if ck, err = r.Cookie(name); err != nil {
			return Transaction{}, fmt.Errorf("exchange: no transaction cookie for this state (another browser, or the login finished or expired): %w", ErrInvalidTransaction)
		}
	}
	expireCookie(w, name)
	tx, err := tc.open(ck)
	if err != nil {
		return Transaction{}, err
	}
	if tc.secure(tx) != secure {
		return Transaction{}, fmt.Errorf("exchange: the transaction cookie's name does not fit its redirect URL (only an http redirect URL on a loopback host goes without the __Host- prefix): %w", ErrInvalidTransaction)
	}
	if subtle.ConstantTimeCompare([]byte(tx.State), []byte(state)) != 1 {
		return Transaction{}, fmt.Errorf("exchange: transaction cookie holds another state: %w", ErrInvalidTransaction)
	}
	if age := tc.now().Sub(tx.Created); age > tc.maxAge || age < -maxFutureSkew {
		return Transaction{}, fmt.Errorf("exchange: transaction cookie is %v old, over Config.TransactionMaxAge %v: %w", age.Round(time.Second), tc.maxAge, errTransactionExpired)
	}
	return tx, nil
}

// open unseals the transaction of ck, a cookie of this TransactionCookies.
// Errors wrap ErrInvalidTransaction.
func (tc *TransactionCookies) open(ck *http.Cookie) (Transaction, error) {
	if len(ck.Value) > maxCookieValue {
		return Transaction{}, fmt.Errorf("exchange: transaction cookie over %d bytes: %w", maxCookieValue, ErrInvalidTransaction)
	}
	sealed, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil {
		return Transaction{}, fmt.Errorf("exchange: transaction cookie is not base64url: %w", ErrInvalidTransaction)
	}
	var plain []byte
	for _, g := range tc.aeads() {
		if len(sealed) < g.NonceSize()+g.Overhead() {
			break
		}
		if p, err := g.Open(nil, sealed[:g.NonceSize()], sealed[g.NonceSize():], []byte(ck.Name)); err == nil {
			plain = p
			break
		}
	}
	if plain == nil {
		return Transaction{}, fmt.Errorf("exchange: transaction cookie does not open with any key (tampered, or sealed with a retired key): %w", ErrInvalidTransaction)
	}
	var tx Transaction
	if err := jose.Unmarshal(plain, &tx); err != nil {
		return Transaction{}, fmt.Errorf("exchange: transaction cookie: %v: %w", err, ErrInvalidTransaction)
	}
	return tx, nil
}

// secure reports whether the cookie of tx gets Secure and the __Host-
// prefix, by tx's redirect URL or, when it records none, the Client's.
func (tc *TransactionCookies) secure(tx Transaction) bool {
	u := tx.RedirectURL
	if u == "" {
		u = tc.redirectURL
	}
	return secureRedirect(u)
}

// cookieName names the cookie of the transaction with state.
func cookieName(state string, secure bool) string {
	sum := sha256.Sum256([]byte("pkjwt transaction cookie\x00" + state))
	id := base64.RawURLEncoding.EncodeToString(sum[:cookieIDBytes])
	if secure {
		return hostCookiePrefix + id
	}
	return cookiePrefix + id
}

// secureRedirect reports whether the cookies of a login with redirectURL
// get the Secure attribute and the __Host- prefix: always, except for an
// http redirect URL on a loopback host (a development server), where a
// browser would not send a Secure cookie back. The request is not looked
// at: behind a TLS-terminating reverse proxy it comes over plain http,
// often to a loopback address.
func secureRedirect(redirectURL string) bool {
	u, err := url.Parse(redirectURL)
	if err != nil || u.Scheme != "http" {
		return true
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}
