package main

import (
	"context"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// spectatordBench measures Gaffer's spectatord line ingest: as fast as
// possible over the unix datagram socket with 32 lines per datagram, and
// at a fixed rate over UDP with one line per datagram (as spectatord's
// own figures), counting drops.
func spectatordBench(c config, bin string) ([][]string, error) {
	sockDir, err := os.MkdirTemp("", "bench-spectatord-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(sockDir)
	sock := filepath.Join(sockDir, "spectatord.unix")
	udpAddr := freeAddr()
	t, err := startTarget("gaffer", bin, "", "--spectatord-unix", sock, "--spectatord-udp", udpAddr, "--spectatord-step", "10s")
	if err != nil {
		return nil, err
	}
	defer t.stop()
	ctx := context.Background()
	lines := func() int64 {
		st, err := t.gafferStats(ctx)
		if err != nil {
			return -1
		}
		n, _ := st["spectatord"]["lines"].(float64)
		return int64(n)
	}
	waitSettled := func(want int64) (int64, time.Time) {
		deadline := time.Now().Add(30 * time.Second)
		last, lastAt := lines(), time.Now()
		for last < want && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
			if n := lines(); n != last {
				last, lastAt = n, time.Now()
			} else if time.Since(lastAt) > 2*time.Second {
				break
			}
		}
		return last, lastAt
	}

	// Unix socket, batched.
	var dgram []byte
	for i := 0; i < 32; i++ {
		dgram = append(dgram, fmt.Sprintf("c:server.requests,status=2xx,id=%d:1\n", i%8)...)
	}
	var sent atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.Dial("unixgram", sock)
			if err != nil {
				log.Print(err)
				return
			}
			defer conn.Close()
			for time.Since(start).Seconds() < c.lineSeconds {
				if _, err := conn.Write(dgram); err == nil {
					sent.Add(32)
				}
			}
		}()
	}
	wg.Wait()
	got, at := waitSettled(sent.Load())
	unixRate := float64(got) / at.Sub(start).Seconds()
	log.Printf("unix socket: %d lines sent, %d received in %v: %.0f lines/s", sent.Load(), got, at.Sub(start).Round(time.Millisecond), unixRate)

	// UDP, paced, one line per datagram.
	base := lines()
	conn, err := net.Dial("udp", udpAddr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	line := []byte("c:server.udp,status=2xx:1")
	total := int64(float64(c.udpRate) * c.lineSeconds)
	start = time.Now()
	var n int64
	for n < total {
		due := int64(time.Since(start).Seconds() * float64(c.udpRate))
		for n < due && n < total {
			conn.Write(line)
			n++
		}
		if n >= due {
			time.Sleep(200 * time.Microsecond)
		}
	}
	sendRate := float64(n) / time.Since(start).Seconds()
	got, _ = waitSettled(base + n)
	drops := n - (got - base)
	log.Printf("udp: %d lines sent at %.0f/s, %d received, %d dropped", n, sendRate, got-base, drops)
	return [][]string{
		{"spectatord lines/s, unix socket, 32 lines per datagram", fmt.Sprintf("%.0f", unixRate), "—", "—", "≥ 1,000,000"},
		{fmt.Sprintf("spectatord UDP loopback at %.0f lines/s: dropped", sendRate), fmt.Sprintf("%d of %d", drops, n), "—", "—", "0 at 400,000/s"},
	}, nil
}
