package main

import "golang.org/x/sys/unix"

// processCPUSeconds returns the CPU time of the process, all threads (the
// search and the garbage collector) together.
func processCPUSeconds() (float64, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts); err != nil {
		return 0, err
	}
	return float64(ts.Sec) + float64(ts.Nsec)*1e-9, nil
}
