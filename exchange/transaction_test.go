package exchange

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestNewTransaction(t *testing.T) {
	t.Parallel()
	a := newTransaction("https://op.example", "https://rp.example/cb", t0)
	b := newTransaction("https://op.example", "https://rp.example/cb", t0)
	if a.State == b.State || a.Nonce == b.Nonce || a.Verifier == b.Verifier || a.State == a.Nonce {
		t.Error("two transactions share random values")
	}
	// 256 bits in unpadded base64url: 43 characters.
	for name, v := range map[string]string{"state": a.State, "nonce": a.Nonce, "verifier": a.Verifier} {
		if len(v) != 43 {
			t.Errorf("len(%s) = %d, want 43", name, len(v))
		}
	}
	if !validVerifier(a.Verifier) {
		t.Errorf("verifier %d chars is not an RFC 7636 verifier", len(a.Verifier))
	}
	if err := a.check("https://op.example"); err != nil {
		t.Errorf("check() = %v", err)
	}
}

// TestChallengeRFC7636 checks S256 against the example of RFC 7636 appendix B.
func TestChallengeRFC7636(t *testing.T) {
	t.Parallel()
	tx := Transaction{Verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"}
	if got, want := tx.challenge(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"; got != want {
		t.Errorf("challenge() = %q, want %q", got, want)
	}
}

func TestValidVerifier(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v    string
		want bool
	}{
		{strings.Repeat("a", 42), false},
		{strings.Repeat("a", 43), true},
		{strings.Repeat("~._-", 32), true},
		{strings.Repeat("a", 129), false},
		{strings.Repeat("a", 42) + "+", false},
		{strings.Repeat("a", 42) + "=", false},
	}
	for _, tc := range tests {
		if got := validVerifier(tc.v); got != tc.want {
			t.Errorf("validVerifier(%q) = %v, want %v", tc.v, got, tc.want)
		}
	}
}

func TestTransactionCheck(t *testing.T) {
	t.Parallel()
	good := newTransaction("https://op.example", "https://rp.example/cb", t0)
	tests := []struct {
		name   string
		change func(*Transaction)
		issuer string
	}{
		{name: "short state", change: func(x *Transaction) { x.State = "abc" }},
		{name: "no nonce", change: func(x *Transaction) { x.Nonce = "" }},
		{name: "short verifier", change: func(x *Transaction) { x.Verifier = "abc" }},
		{name: "verifier bad chars", change: func(x *Transaction) { x.Verifier = strings.Repeat("/", 43) }},
		{name: "other issuer", change: func(*Transaction) {}, issuer: "https://evil.example"},
		{name: "issuer prefix", change: func(x *Transaction) { x.Issuer = "https://op.example/" }},
		{name: "no redirect", change: func(x *Transaction) { x.RedirectURL = "" }},
		{name: "no time", change: func(x *Transaction) { x.Created = time.Time{} }},
	}
	for _, tc := range tests {
		tx := good
		tc.change(&tx)
		iss := tc.issuer
		if iss == "" {
			iss = "https://op.example"
		}
		if err := tx.check(iss); !errors.Is(err, ErrInvalidTransaction) {
			t.Errorf("check(%q) = %v, want %v", tc.name, err, ErrInvalidTransaction)
		}
	}
}

func TestTransactionJSONRoundTrip(t *testing.T) {
	t.Parallel()
	tx := newTransaction("https://op.example", "https://rp.example/cb", t0)
	tx.MaxAge = 5 * time.Minute
	b, err := json.Marshal(tx)
	if err != nil {
		t.Fatal(err)
	}
	var back Transaction
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back != tx {
		t.Errorf("round trip = %v, want %v", back.GoString(), tx.GoString())
	}
	if !bytes.Contains(b, []byte(tx.Verifier)) {
		t.Error("JSON lacks the verifier: the session could not complete the exchange")
	}
}

// TestTransactionRedacted: no formatting path reveals the verifier, nonce or
// state.
func TestTransactionRedacted(t *testing.T) {
	t.Parallel()
	tx := newTransaction("https://op.example", "https://rp.example/cb", t0)
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("login", "tx", tx, "ptx", &tx)
	outputs := []string{
		fmt.Sprintf("%v", tx), fmt.Sprintf("%+v", tx), fmt.Sprintf("%#v", tx), fmt.Sprintf("%s", tx),
		fmt.Sprintf("%v", &tx), fmt.Sprintf("%+v", &tx), fmt.Sprintf("%#v", &tx), fmt.Sprint([]Transaction{tx}),
		tx.String(), tx.GoString(), logged.String(),
	}
	for _, out := range outputs {
		for name, secret := range map[string]string{"verifier": tx.Verifier, "nonce": tx.Nonce, "state": tx.State} {
			if strings.Contains(out, secret) {
				t.Errorf("output %q reveals the %s", out, name)
			}
		}
	}
	if !strings.Contains(logged.String(), "op.example") {
		t.Errorf("log %q lacks the issuer", logged.String())
	}
}
