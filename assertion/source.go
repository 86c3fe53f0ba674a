package assertion

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pkjwt/pkjwt/jwks"
)

// Source yields a client assertion for one token request. Exchange calls
// Assertion once per request and sends the result as client_assertion; it
// never reuses one.
//
// *[Minter] mints a new assertion per call. [FromFile] re-reads a file an
// outside system keeps fresh (a Kubernetes projected service-account token, a
// CI system's OIDC token). [SourceFunc] adapts a function.
type Source interface {
	// Assertion returns a compact-serialised JWS to send as the
	// client_assertion parameter. Implementations must return a new or
	// freshly read assertion on every call and never put it in an error.
	Assertion(ctx context.Context) (string, error)
}

// SourceFunc adapts a function to [Source], for assertions minted elsewhere
// (a workload identity token from a metadata service, say). The result is
// trimmed of surrounding white space and checked like [FromFile]'s: at most
// MaxAssertionSize bytes and shaped like a compact JWS with an asymmetric
// "alg"; otherwise ErrAssertionTooLarge or ErrMalformedAssertion. An error
// from the function is returned unchanged. A nil SourceFunc returns
// ErrNoSource.
type SourceFunc func(ctx context.Context) (string, error)

// Assertion calls f and checks its result.
func (f SourceFunc) Assertion(ctx context.Context) (string, error) {
	if f == nil {
		return "", fmt.Errorf("assertion: nil SourceFunc: %w", ErrNoSource)
	}
	s, err := f(ctx)
	if err != nil {
		return "", err
	}
	s = strings.TrimSpace(s)
	if len(s) > MaxAssertionSize {
		return "", fmt.Errorf("assertion: the SourceFunc returned %d bytes, more than %d: %w", len(s), MaxAssertionSize, ErrAssertionTooLarge)
	}
	if p := compactJWSProblem(s); p != "" {
		return "", fmt.Errorf("assertion: the SourceFunc returned a value that %s: %w", p, ErrMalformedAssertion)
	}
	return s, nil
}

// FromFile returns a [Source] that reads the assertion from the file at path
// on every call — never caching it, because the system that writes it
// (Kubernetes, a CI runner) replaces it before it expires. The content is
// trimmed of surrounding white space and must be a compact JWS with an
// asymmetric "alg" of at most MaxAssertionSize bytes.
//
// Each call does file I/O. Errors wrap the *[os.PathError] of a failed read,
// ErrAssertionTooLarge or ErrMalformedAssertion (also for a path that is not
// a regular file, such as a FIFO, which is refused before it is opened); they name the path, never the content.
func FromFile(path string) Source { return fileSource{path: path} }

type fileSource struct{ path string }

// Assertion reads and checks the file.
func (s fileSource) Assertion(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("assertion: read %s: %w", s.path, err)
	}
	// Refuse FIFOs and devices before opening, so a read cannot block forever.
	fi, err := os.Stat(s.path)
	if err != nil {
		return "", fmt.Errorf("assertion: assertion file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("assertion: assertion file %s is not a regular file: %w", s.path, ErrMalformedAssertion)
	}
	f, err := os.Open(s.path)
	if err != nil {
		return "", fmt.Errorf("assertion: assertion file: %w", err)
	}
	defer f.Close()
	// Allow surrounding white space beyond the limit, but stay bounded.
	const maxRead = MaxAssertionSize + 4096
	b, err := io.ReadAll(io.LimitReader(f, maxRead+1))
	if err != nil {
		return "", fmt.Errorf("assertion: assertion file: %w", err)
	}
	if len(b) > maxRead {
		return "", fmt.Errorf("assertion: assertion file %s holds more than %d bytes: %w", s.path, maxRead, ErrAssertionTooLarge)
	}
	b = bytes.TrimSpace(b)
	if len(b) > MaxAssertionSize {
		return "", fmt.Errorf("assertion: assertion file %s holds %d bytes, more than %d: %w", s.path, len(b), MaxAssertionSize, ErrAssertionTooLarge)
	}
	str := string(b)
	if p := compactJWSProblem(str); p != "" {
		return "", fmt.Errorf("assertion: assertion file %s %s: %w", s.path, p, ErrMalformedAssertion)
	}
	return str, nil
}

// String names the file.
func (s fileSource) String() string { return "assertion.FromFile(" + s.path + ")" }

// compactJWSProblem returns why s does not look like a compact JWS
// (RFC 7515 §7.1) signed with an asymmetric algorithm, or "". It checks the
// shape only: three non-empty base64url segments, a JSON-object header whose
// "alg" is a string other than "none" or an HMAC algorithm, and a JSON-object
// payload. It never quotes s.
func compactJWSProblem(s string) string {
	if s == "" {
		return "is empty"
	}
	hdr, rest, ok1 := strings.Cut(s, ".")
	payload, sig, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(sig, ".") {
		return "is not a compact JWS of three dot-separated parts"
	}
	if hdr == "" || payload == "" || sig == "" {
		return "has an empty part (an unsigned JWT is refused)"
	}
	for _, part := range [...]string{hdr, payload, sig} {
		for i := 0; i < len(part); i++ {
			c := part[i]
			if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return "holds a character outside the base64url alphabet"
			}
		}
	}
	hb, err := b64.DecodeString(hdr)
	if err != nil {
		return "has a header that is not base64url"
	}
	// Member names are matched exactly, as JOSE requires: encoding/json
	// would also take "Alg" or "ALG" for "alg".
	var alg *string
	err = walkObject(hb, func(name string, raw json.RawMessage) error {
		if name == "alg" {
			alg = new(string)
			return json.Unmarshal(raw, alg)
		}
		return nil
	})
	if err != nil || alg == nil {
		return `has a header that is not a JSON object with a string "alg" and no repeated member`
	}
	if *alg == "" || jwks.IsSymmetricOrNone(*alg) {
		return `has an "alg" of none, HMAC or empty; a client assertion must be signed with an asymmetric key`
	}
	pb, err := b64.DecodeString(payload)
	if err != nil {
		return "has a payload that is not base64url"
	}
	if !isJSONObject(pb) {
		return "has a payload that is not a JSON object"
	}
	return ""
}

// errRepeated reports a member name that appears twice in an object.
var errRepeated = errors.New("repeated member")

// walkObject calls f with the name and raw value of each member of the JSON
// object b, in order. It fails when b is not a single valid JSON object or
// repeats a member name (exactly), or when f fails.
func walkObject(b []byte, f func(name string, raw json.RawMessage) error) error {
	if !isJSONObject(b) {
		return errors.New("not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil { // the '{'
		return err
	}
	seen := make(map[string]struct{})
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ := t.(string)
		if _, dup := seen[name]; dup {
			return fmt.Errorf("%w %q", errRepeated, shorten(name))
		}
		seen[name] = struct{}{}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		if err := f(name, raw); err != nil {
			return err
		}
	}
	return nil
}

// isJSONObject reports whether b is valid JSON whose top-level value is an
// object.
func isJSONObject(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{' && json.Valid(b)
}
