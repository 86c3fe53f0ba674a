package httpread

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestAll(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		body    string
		limit   int64
		want    string
		wantErr error
	}{
		{"empty", "", 10, "", nil},
		{"under the limit", "hello", 10, "hello", nil},
		{"exactly the limit", "hello", 5, "hello", nil},
		{"one byte over", "hello!", 5, "", ErrTooLarge},
		{"far over", strings.Repeat("x", 1<<20), 1024, "", ErrTooLarge},
		{"zero limit, empty body", "", 0, "", nil},
		{"zero limit, one byte", "x", 0, "", ErrTooLarge},
		{"negative limit", "x", -1, "", ErrTooLarge},
	}
	for _, tc := range tests {
		got, err := All(strings.NewReader(tc.body), tc.limit)
		if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
			t.Errorf("All(%s) error = %v, want %v", tc.name, err, tc.wantErr)
			continue
		}
		if err != nil {
			var tl *TooLargeError
			if !errors.As(err, &tl) || tl.Limit != max(tc.limit, 0) || got != nil {
				t.Errorf("All(%s) = %q, %#v; want nil and a *TooLargeError with the limit", tc.name, got, err)
			}
			continue
		}
		if string(got) != tc.want {
			t.Errorf("All(%s) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestAllReaderError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	if _, err := All(io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(boom)), 10); !errors.Is(err, boom) {
		t.Errorf("All(failing reader) error = %v, want the reader's error", err)
	}
}
