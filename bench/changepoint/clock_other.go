//go:build !linux

package main

import "errors"

// processCPUSeconds is only implemented on Linux.
func processCPUSeconds() (float64, error) {
	return 0, errors.New("process CPU time is only measured on Linux")
}
