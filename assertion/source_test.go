package assertion_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkjwt/pkjwt/assertion"
	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
)

// jws builds a compact JWS from a header and payload JSON and a fake
// signature of a plausible length for the alg (64 bytes for ES256, 256 for
// RSA); FromFile checks shape, not signatures.
func jws(header, payload string) string {
	e := base64.RawURLEncoding.EncodeToString
	sig := make([]byte, 256)
	if strings.Contains(header, "ES256") || strings.Contains(header, "EdDSA") {
		sig = sig[:64]
	}
	return e([]byte(header)) + "." + e([]byte(payload)) + "." + e(sig)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestFromFileRereadsEveryCall(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "token")
	first := jws(`{"alg":"RS256","kid":"k1"}`, `{"iss":"system:serviceaccount:a","n":1}`)
	second := jws(`{"alg":"ES256","kid":"k2"}`, `{"iss":"system:serviceaccount:a","n":2}`)
	src := assertion.FromFile(path)

	writeFile(t, path, first+"\n") // a trailing newline is trimmed
	for range 2 {
		got, err := src.Assertion(t.Context())
		if err != nil {
			t.Fatalf("Assertion() error = %v", err)
		}
		if got != first {
			t.Fatal("Assertion() did not return the file's assertion")
		}
	}
	writeFile(t, path, "  "+second+"\r\n")
	got, err := src.Assertion(t.Context())
	if err != nil {
		t.Fatalf("Assertion() after rewrite error = %v", err)
	}
	if got != second {
		t.Fatal("Assertion() after rewrite returned the old assertion: it was cached")
	}
	// Kubernetes swaps a symlink; the new target is read.
	dir := t.TempDir()
	link := filepath.Join(dir, "link")
	writeFile(t, filepath.Join(dir, "a"), first)
	writeFile(t, filepath.Join(dir, "b"), second)
	if err := os.Symlink("a", link); err != nil {
		t.Skipf("symlinks unavailable: %v", err)
	}
	ls := assertion.FromFile(link)
	if got, err := ls.Assertion(t.Context()); err != nil || got != first {
		t.Fatalf("Assertion() via symlink = %v", err)
	}
	if err := os.Remove(link); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("b", link); err != nil {
		t.Fatal(err)
	}
	if got, err := ls.Assertion(t.Context()); err != nil || got != second {
		t.Fatalf("Assertion() via swapped symlink error = %v, or the old assertion", err)
	}
}

func TestFromFileErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	valid := jws(`{"alg":"RS256"}`, `{"iss":"a"}`)
	big := jws(`{"alg":"RS256"}`, `{"pad":"`+strings.Repeat("A", assertion.MaxAssertionSizeForTest)+`"}`)
	for _, tc := range []struct {
		name    string
		content string
		wantErr error
	}{
		{"empty", "", assertion.ErrMalformedAssertion},
		{"white space only", " \n\t", assertion.ErrMalformedAssertion},
		{"too large", big, assertion.ErrAssertionTooLargeForTest},
		{"huge", strings.Repeat("A", 1<<20), assertion.ErrAssertionTooLargeForTest},
		{"two parts", "abc.def", assertion.ErrMalformedAssertion},
		{"four parts", valid + ".x", assertion.ErrMalformedAssertion},
		{"empty signature (alg none style)", valid[:strings.LastIndexByte(valid, '.')+1], assertion.ErrMalformedAssertion},
		{"empty header", valid[strings.IndexByte(valid, '.'):], assertion.ErrMalformedAssertion},
		{"padding", valid + "=", assertion.ErrMalformedAssertion},
		{"standard base64", strings.Replace(valid, "e", "+", 1), assertion.ErrMalformedAssertion},
		{"inner white space", strings.Replace(valid, ".", ". ", 1), assertion.ErrMalformedAssertion},
		{"alg none", jws(`{"alg":"none"}`, `{"iss":"a"}`), assertion.ErrMalformedAssertion},
		{"alg None", jws(`{"alg":"None"}`, `{"iss":"a"}`), assertion.ErrMalformedAssertion},
		{"alg HS256", jws(`{"alg":"HS256"}`, `{"iss":"a"}`), assertion.ErrMalformedAssertion},
		{"alg empty", jws(`{"alg":""}`, `{"iss":"a"}`), assertion.ErrMalformedAssertion},
		{"alg missing", jws(`{"typ":"JWT"}`, `{"iss":"a"}`), assertion.ErrMalformedAssertion},
		{"alg not a string", jws(`{"alg":1}`, `{"iss":"a"}`), assertion.ErrMalformedAssertion},
		{"alg only in another case", jws(`{"Alg":"RS256"}`, `{"iss":"a"}`), assertion.ErrMalformedAssertion},
		{"alg repeated", jws(`{"alg":"RS256","alg":"none"}`, `{"iss":"a"}`), assertion.ErrMalformedAssertion},
		{"header not JSON", jws(`alg`, `{"iss":"a"}`), assertion.ErrMalformedAssertion},
		{"header an array", jws(`["alg"]`, `{"iss":"a"}`), assertion.ErrMalformedAssertion},
		{"payload not JSON", jws(`{"alg":"RS256"}`, `iss`), assertion.ErrMalformedAssertion},
		{"payload a string", jws(`{"alg":"RS256"}`, `"iss"`), assertion.ErrMalformedAssertion},
		{"a PEM key by mistake", string(testkeys.PEM(testkeys.P256A)), assertion.ErrMalformedAssertion},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
			writeFile(t, path, tc.content)
			got, err := assertion.FromFile(path).Assertion(t.Context())
			if !errors.Is(err, assertion.ErrMalformedAssertion) || !errors.Is(err, tc.wantErr) {
				t.Fatalf("FromFile(%s) error = %v, want %v", tc.name, err, tc.wantErr)
			}
			if got != "" {
				t.Errorf("FromFile(%s) returned a value with an error", tc.name)
			}
			// The error names the file, never its content.
			if len(tc.content) > 8 && strings.Contains(err.Error(), strings.TrimSpace(tc.content)[:8]) {
				t.Errorf("FromFile(%s) error quotes the content: %v", tc.name, err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("FromFile(%s) error does not name the file: %v", tc.name, err)
			}
		})
	}
}

func TestFromFileNotRegularOrMissing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := assertion.FromFile(filepath.Join(dir, "missing")).Assertion(t.Context()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("FromFile(missing) error = %v, want %v", err, fs.ErrNotExist)
	}
	if _, err := assertion.FromFile(dir).Assertion(t.Context()); !errors.Is(err, assertion.ErrMalformedAssertion) {
		t.Errorf("FromFile(directory) error = %v, want %v", err, assertion.ErrMalformedAssertion)
	}
	path := filepath.Join(dir, "t")
	writeFile(t, path, jws(`{"alg":"RS256"}`, `{}`))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := assertion.FromFile(path).Assertion(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("FromFile(canceled) error = %v, want %v", err, context.Canceled)
	}
}

func TestSourceFunc(t *testing.T) {
	t.Parallel()
	key := newKey(t, testkeys.P256A, jwks.ES256)
	m, err := assertion.NewMinter(key, assertion.Config{ClientID: testClientID, Audience: testIssuer})
	if err != nil {
		t.Fatal(err)
	}
	var nilFunc assertion.SourceFunc
	if _, err := nilFunc.Assertion(t.Context()); !errors.Is(err, assertion.ErrInvalidConfig) || !errors.Is(err, assertion.ErrNoSourceForTest) {
		t.Errorf("nil SourceFunc error = %v, want %v and %v", err, assertion.ErrInvalidConfig, assertion.ErrNoSourceForTest)
	}
	errUpstream := errors.New("metadata server down")
	for _, tc := range []struct {
		name    string
		f       assertion.SourceFunc
		wantErr error
	}{
		{"upstream error unchanged", func(context.Context) (string, error) { return "", errUpstream }, errUpstream},
		{"empty", func(context.Context) (string, error) { return "", nil }, assertion.ErrMalformedAssertion},
		{"not a JWS", func(context.Context) (string, error) { return "hello", nil }, assertion.ErrMalformedAssertion},
		{"alg none", func(context.Context) (string, error) { return jws(`{"alg":"none"}`, `{}`), nil }, assertion.ErrMalformedAssertion},
		{"too large", func(context.Context) (string, error) {
			return strings.Repeat("a", assertion.MaxAssertionSizeForTest+1), nil
		}, assertion.ErrAssertionTooLargeForTest},
	} {
		_, err := tc.f.Assertion(t.Context())
		if !errors.Is(err, tc.wantErr) {
			t.Errorf("SourceFunc(%s) error = %v, want %v", tc.name, err, tc.wantErr)
		}
		if tc.wantErr == assertion.ErrAssertionTooLargeForTest && !errors.Is(err, assertion.ErrMalformedAssertion) {
			t.Errorf("SourceFunc(%s) error = %v, want %v", tc.name, err, assertion.ErrMalformedAssertion)
		}
	}
	// A minted assertion passes through, trimmed; a TokenMinter adapts.
	f := assertion.SourceFunc(func(ctx context.Context) (string, error) {
		a, err := m.Assertion(ctx)
		return a + "\n", err
	})
	got, err := f.Assertion(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	verifyToken(t, got, key)
}
