package main

import "time"

var start = time.Now()

// wallSeconds returns the wall time since the program started.
func wallSeconds() float64 { return time.Since(start).Seconds() }
