//go:build !linux

package ingest

import "errors"

func setRcvBufForce(uintptr, int) error { return errors.New("SO_RCVBUFFORCE is Linux-only") }
