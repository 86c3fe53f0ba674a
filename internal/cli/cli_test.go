package cli

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"testing"
)

func TestExitCode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		code int
		out  string
	}{
		{nil, 0, ""},
		{flag.ErrHelp, 0, ""},
		{FlagError{errors.New("bad flag")}, 2, ""},
		{fmt.Errorf("parse: %w", FlagError{errors.New("bad flag")}), 2, ""},
		{errors.New("boom"), 1, "prog: boom\n"},
	} {
		var b bytes.Buffer
		if got := ExitCode("prog", tc.err, &b); got != tc.code || b.String() != tc.out {
			t.Errorf("ExitCode(%v) = %d, %q; want %d, %q", tc.err, got, b.String(), tc.code, tc.out)
		}
	}
}
