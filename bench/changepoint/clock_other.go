//go:build !linux

package main

import "errors"

// threadCPUSeconds is only implemented on Linux.
func threadCPUSeconds() (float64, error) {
	return 0, errors.New("thread CPU time is only measured on Linux")
}
