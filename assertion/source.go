package assertion

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pkjwt/pkjwt/internal/jose"
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
// 16 KiB and shaped like a compact JWS with an asymmetric "alg"; otherwise
// ErrMalformedAssertion. An error from the function is returned unchanged.
// A nil SourceFunc returns ErrInvalidConfig.
type SourceFunc func(ctx context.Context) (string, error)

// Assertion calls f and checks its result.
func (f SourceFunc) Assertion(ctx context.Context) (string, error) {
	if f == nil {
		return "", fmt.Errorf("assertion: nil SourceFunc: %w: %w", ErrInvalidConfig, errNoSource)
	}
	s, err := f(ctx)
	if err != nil {
		return "", err
	}
	s = strings.TrimSpace(s)
	if len(s) > maxAssertionSize {
		return "", fmt.Errorf("assertion: the SourceFunc returned %d bytes, more than %d: %w: %w", len(s), maxAssertionSize, ErrMalformedAssertion, errAssertionTooLarge)
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
// asymmetric "alg" of at most 16 KiB.
//
// Each call does file I/O. Errors wrap the *[os.PathError] of a failed read
// or ErrMalformedAssertion (also for content over 16 KiB, and for a path that
// is not a regular file, such as a FIFO, which is refused before it is
// opened); they name the path, never the content.
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
	const maxRead = maxAssertionSize + 4096
	b, err := io.ReadAll(io.LimitReader(f, maxRead+1))
	if err != nil {
		return "", fmt.Errorf("assertion: assertion file: %w", err)
	}
	if len(b) > maxRead {
		return "", fmt.Errorf("assertion: assertion file %s holds more than %d bytes: %w: %w", s.path, maxRead, ErrMalformedAssertion, errAssertionTooLarge)
	}
	b = bytes.TrimSpace(b)
	if len(b) > maxAssertionSize {
		return "", fmt.Errorf("assertion: assertion file %s holds %d bytes, more than %d: %w: %w", s.path, len(b), maxAssertionSize, ErrMalformedAssertion, errAssertionTooLarge)
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
// (RFC 7515 §7.1) signed with an asymmetric algorithm, or "". It reads s
// with the module's one JOSE reader: three base64url segments, a header
// whose "alg" is a supported asymmetric algorithm (never none or HMAC), a
// signature of a plausible length, and a payload that is one JSON object
// without a repeated member. The signature itself is the provider's to
// check. It never quotes s.
func compactJWSProblem(s string) string {
	t, err := jose.Parse(s, maxAssertionSize, jose.Names())
	if err == nil {
		err = jose.Object(t.Payload, nil)
		if err != nil {
			err = fmt.Errorf("payload: %w", err)
		}
	}
	if err != nil {
		return "is not a usable client assertion: " + err.Error()
	}
	return ""
}
