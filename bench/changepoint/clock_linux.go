package main

import "golang.org/x/sys/unix"

// threadCPUSeconds returns the CPU time of the calling OS thread.
func threadCPUSeconds() (float64, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0, err
	}
	return float64(ts.Sec) + float64(ts.Nsec)*1e-9, nil
}
