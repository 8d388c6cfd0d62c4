//go:build unix

package events

import "syscall"

// processCPUSeconds is the CPU time this process has used, user and
// system, GC included: unlike wall time, other processes on a shared
// machine do not inflate it.
func processCPUSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}
