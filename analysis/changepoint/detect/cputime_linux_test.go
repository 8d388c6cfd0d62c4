package detect

import (
	"testing"

	"golang.org/x/sys/unix"
)

// cpuNanos returns the CPU time of the process (all threads: the search
// and the garbage collector).
func cpuNanos() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return ts.Nano()
}

// reportCPU starts measuring the process's CPU time; the returned function
// reports it per operation as cpu-ns/op. On a shared machine it leaves out
// the time other processes hold the CPU, which wall time (ns/op) counts.
func reportCPU(b *testing.B) func() {
	start := cpuNanos()
	return func() { b.ReportMetric(float64(cpuNanos()-start)/float64(b.N), "cpu-ns/op") }
}
