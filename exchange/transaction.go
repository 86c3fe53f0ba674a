package exchange

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// randomBytes is the entropy of state and nonce: 256 bits each, twice the
// 128 bits RFC 9700 §4.7.1 asks for. The PKCE verifier, from
// oauth2.GenerateVerifier, has 256 bits too (RFC 7636 §7.1 asks for 128).
const randomBytes = 32

// Transaction is what an application keeps between sending the user to the
// authorization endpoint and handling the callback: the state, the nonce,
// the PKCE code verifier, the issuer and redirect URI it was made for, and
// when it was made. It is a small value that marshals to JSON, meant for the
// user's server-side session.
//
// The Verifier is a secret for the lifetime of the transaction: store the
// transaction server-side or in an encrypted, integrity-protected cookie
// ([Client.TransactionCookies] makes one), never in a plain cookie or a URL. String, GoString, Format, LogValue
// redact it (and the nonce and state); encoding/json does not, on purpose.
//
// Use a transaction for one callback only, and delete it from the session
// before calling [Client.Callback].
type Transaction struct {
	// State is the state parameter: 256 random bits, base64url.
	State string `json:"state"`
	// Nonce is the nonce parameter, checked against the ID token's nonce.
	Nonce string `json:"nonce"`
	// Verifier is the PKCE code verifier (RFC 7636 §4.1), 43 characters.
	Verifier string `json:"code_verifier"`
	// Issuer is the issuer of the provider the transaction was made for.
	Issuer string `json:"issuer"`
	// RedirectURL is the redirect_uri sent in the authorization request;
	// the code exchange sends the same.
	RedirectURL string `json:"redirect_uri"`
	// Created is when the transaction was made, by the client's clock.
	Created time.Time `json:"created"`
	// MaxAge is the max_age sent in the authorization request, zero when none
	// was sent; the ID token's auth_time is checked against it.
	MaxAge time.Duration `json:"max_age,omitempty"`
}

// newTransaction makes a transaction with fresh random state, nonce and
// verifier.
func newTransaction(issuer, redirectURL string, now time.Time) Transaction {
	return Transaction{
		State:       random(),
		Nonce:       random(),
		Verifier:    oauth2.GenerateVerifier(),
		Issuer:      issuer,
		RedirectURL: redirectURL,
		Created:     now,
	}
}

// random returns randomBytes from crypto/rand, base64url without padding.
// crypto/rand.Read does not fail (it crashes the program if the system's
// generator does).
func random() string {
	b := make([]byte, randomBytes)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// challenge returns the PKCE S256 code challenge of the transaction's
// verifier: BASE64URL(SHA256(verifier)) (RFC 7636 §4.2), computed by
// [oauth2.S256ChallengeFromVerifier].
func (t Transaction) challenge() string {
	return oauth2.S256ChallengeFromVerifier(t.Verifier)
}

// validVerifier reports whether v is an RFC 7636 §4.1 code verifier: 43 to
// 128 characters from [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
func validVerifier(v string) bool {
	return len(v) >= 43 && len(v) <= 128 && !strings.ContainsFunc(v, func(r rune) bool {
		return !('A' <= r && r <= 'Z' || 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || strings.ContainsRune("-._~", r))
	})
}

// check reports what makes t unusable for a callback at issuer.
func (t Transaction) check(issuer string) error {
	switch {
	case len(t.State) < 22: // 128 bits in base64url
		return fmt.Errorf("exchange: transaction state is missing or shorter than 128 bits: %w", ErrInvalidTransaction)
	case len(t.Nonce) < 22:
		return fmt.Errorf("exchange: transaction nonce is missing or shorter than 128 bits: %w", ErrInvalidTransaction)
	case !validVerifier(t.Verifier):
		return fmt.Errorf("exchange: transaction code verifier is not an RFC 7636 verifier of 43 to 128 characters: %w", ErrInvalidTransaction)
	case subtle.ConstantTimeCompare([]byte(t.Issuer), []byte(issuer)) != 1:
		return fmt.Errorf("exchange: transaction was made for issuer %s, this client's is %s: %w", quote(truncate(t.Issuer, 128)), quote(issuer), ErrInvalidTransaction)
	case t.RedirectURL == "":
		return fmt.Errorf("exchange: transaction has no redirect URI: %w", ErrInvalidTransaction)
	case t.Created.IsZero():
		return fmt.Errorf("exchange: transaction has no creation time: %w", ErrInvalidTransaction)
	}
	return nil
}

// String describes the transaction without its state, nonce or verifier.
func (t Transaction) String() string {
	return fmt.Sprintf("exchange.Transaction{Issuer: %q, RedirectURL: %q, Created: %s, State: [redacted], Nonce: [redacted], Verifier: [redacted]}",
		t.Issuer, t.RedirectURL, t.Created.UTC().Format(time.RFC3339))
}

// GoString returns the same redacted description as String.
func (t Transaction) GoString() string { return t.String() }

// Format writes the redacted description for every verb, so that %v, %+v,
// %#v and %s never reach the verifier.
func (t Transaction) Format(f fmt.State, _ rune) { fmt.Fprint(f, t.String()) }

// LogValue returns the issuer, redirect URI and creation time only.
func (t Transaction) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("issuer", t.Issuer),
		slog.String("redirect_uri", t.RedirectURL),
		slog.Time("created", t.Created),
	)
}

var (
	_ fmt.Stringer   = Transaction{}
	_ fmt.GoStringer = Transaction{}
	_ fmt.Formatter  = Transaction{}
	_ slog.LogValuer = Transaction{}
)
