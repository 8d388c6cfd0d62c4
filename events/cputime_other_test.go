//go:build !unix

package events

func processCPUSeconds() float64 { return 0 }
