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
// (the callback is a top-level GET from the provider), Secure (except for
// plain http on a loopback host, where the prefix is left out too, as
// browsers require Secure for it) and a Max-Age of
// Config.TransactionMaxAge.
type TransactionCookies struct {
	// aeads yields the ciphers, first the sealing one. A function, so
	// that printing a TransactionCookies never reaches key material.
	aeads  func() []cipher.AEAD
	now    func() time.Time
	maxAge time.Duration
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
	return &TransactionCookies{aeads: func() []cipher.AEAD { return aeads }, now: c.now, maxAge: c.txMaxAge}, nil
}

// Save seals tx into a new cookie on w, for the login r starts. Call it
// before redirecting to the URL of [Client.AuthCodeURL]. It does no I/O.
//
// Errors: ErrInvalidTransaction for a transaction without a state, or one
// too large for a cookie (a redirect URL of kilobytes).
func (tc *TransactionCookies) Save(w http.ResponseWriter, r *http.Request, tx Transaction) error {
	if len(tx.State) < 22 {
		return fmt.Errorf("exchange: transaction state is missing or shorter than 128 bits: %w", ErrInvalidTransaction)
	}
	secure := secureRequest(r)
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
	secure := secureRequest(r)
	name := cookieName(state, secure)
	ck, err := r.Cookie(name)
	if err != nil {
		return Transaction{}, fmt.Errorf("exchange: no transaction cookie for this state (another browser, or the login finished or expired): %w", ErrInvalidTransaction)
	}
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, Secure: secure, HttpOnly: true, SameSite: http.SameSiteLaxMode})
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
		if p, err := g.Open(nil, sealed[:g.NonceSize()], sealed[g.NonceSize():], []byte(name)); err == nil {
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
	if subtle.ConstantTimeCompare([]byte(tx.State), []byte(state)) != 1 {
		return Transaction{}, fmt.Errorf("exchange: transaction cookie holds another state: %w", ErrInvalidTransaction)
	}
	if age := tc.now().Sub(tx.Created); age > tc.maxAge || age < -maxFutureSkew {
		return Transaction{}, fmt.Errorf("exchange: transaction cookie is %v old, over Config.TransactionMaxAge %v: %w", age.Round(time.Second), tc.maxAge, errTransactionExpired)
	}
	return tx, nil
}

// cookieName names the cookie of the transaction with state.
func cookieName(state string, secure bool) string {
	sum := sha256.Sum256([]byte("pkjwt transaction cookie\x00" + state))
	id := base64.RawURLEncoding.EncodeToString(sum[:cookieIDBytes])
	if secure {
		return "__Host-pkjwt-tx-" + id
	}
	return "pkjwt-tx-" + id
}

// secureRequest reports whether cookies for r get the Secure attribute:
// always, except for plain http to a loopback host (a development server),
// where a browser would not send a Secure cookie back. Plain http to any
// other host is taken to sit behind a TLS-terminating proxy.
func secureRequest(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if strings.EqualFold(host, "localhost") {
		return false
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip == nil || !ip.IsLoopback()
}
