//go:build unix

package provider_test

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time (user + system) the process has used. The
// benchmarks report it per operation beside wall time, because wall time
// on a shared machine measures the neighbours as much as the code.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
