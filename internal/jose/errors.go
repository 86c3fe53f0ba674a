package jose

import (
	"errors"
	"fmt"
	"strconv"
)

// The kinds of failure of the reader. Public packages map each to their own
// sentinel with errors.Is; the message of the returned error says what was
// wrong without the token's bytes (untrusted values appear quoted and
// shortened).
var (
	// ErrMalformed: not a compact JWS, bad base64url, not one JSON object,
	// a repeated member name, nesting too deep, a value of the wrong type.
	ErrMalformed = errors.New("malformed")
	// ErrAlgorithm: the alg header is none, HMAC, or not in the allow-list.
	ErrAlgorithm = errors.New("algorithm not allowed")
	// ErrHeader: a header the reader never accepts (crit) or a typ other
	// than expected.
	ErrHeader = errors.New("header not accepted")
	// ErrKeyMismatch: the key does not fit the algorithm (type, curve, size).
	ErrKeyMismatch = errors.New("key does not fit the algorithm")
	// ErrNoKey: no key of the set fits the token's kid and alg.
	ErrNoKey = errors.New("no key fits")
	// ErrSignature: the signature does not verify.
	ErrSignature = errors.New("signature does not verify")
)

type kindError struct {
	kind error
	msg  string
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

func newError(kind error, msg string) error { return &kindError{kind: kind, msg: msg} }

func malformed(msg string) error { return &kindError{kind: ErrMalformed, msg: msg} }

func duplicate(name []byte) error {
	return malformed("member " + Quote(string(name)) + " occurs twice")
}

// Quote renders an untrusted string for an error message: quoted, and cut
// at 64 bytes.
func Quote(s string) string {
	const max = 64
	if len(s) > max {
		return strconv.Quote(s[:max]) + "…"
	}
	return strconv.Quote(s)
}

func typeName(v any) string { return fmt.Sprintf("%T", v) }
