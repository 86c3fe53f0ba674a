// Package httpread reads HTTP bodies with a size limit that is an error when
// exceeded, never a silent truncation.
package httpread

import (
	"errors"
	"fmt"
	"io"
)

// ErrTooLarge is returned (wrapped in a *TooLargeError) when a body exceeds
// its limit. Public packages wrap it in their own sentinel.
var ErrTooLarge = errors.New("body too large")

// TooLargeError reports a body that exceeded Limit bytes.
type TooLargeError struct{ Limit int64 }

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("body exceeds the limit of %d bytes", e.Limit)
}

// Is reports whether target is ErrTooLarge.
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

// All reads r up to limit bytes. A body longer than limit is a
// *TooLargeError; a limit of zero or less reads nothing and fails on any byte.
func All(r io.Reader, limit int64) ([]byte, error) {
	if limit < 0 {
		limit = 0
	}
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, &TooLargeError{Limit: limit}
	}
	return b, nil
}
