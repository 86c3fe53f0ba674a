// Package cli holds what the example programs share on the command line:
// one way to report a flag error and to turn an error into an exit status.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// FlagError is a command-line error the flag package has already printed,
// with the usage.
type FlagError struct{ Err error }

func (e FlagError) Error() string { return e.Err.Error() }
func (e FlagError) Unwrap() error { return e.Err }

// ExitCode prints err once, prefixed with the program's name, and returns
// the exit status: 0 for none or -h, 2 for a flag error (printed by the
// flag package already), 1 otherwise.
func ExitCode(program string, err error, stderr io.Writer) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(FlagError)):
		return 2
	}
	fmt.Fprintln(stderr, program+":", err)
	return 1
}
