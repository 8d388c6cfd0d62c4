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

	"golang.org/x/net/ipv4"
)

// spectatordBench measures Gaffer's spectatord line ingest: as fast as
// possible over the unix datagram socket with 32 lines per datagram, and
// at a fixed rate over UDP with one line per datagram (as spectatord's own
// figures; the senders hand the kernel 32 datagrams per sendmmsg),
// counting drops.
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

	// UDP, paced, one line per datagram and then eight.
	var rows [][]string
	for _, perDatagram := range []int{1, 8} {
		base := lines()
		n, sendRate, err := sendUDP(udpAddr, c, perDatagram)
		if err != nil {
			return nil, err
		}
		got, _ := waitSettled(base + n)
		drops := n - (got - base)
		log.Printf("udp, %d line(s) per datagram: %d lines sent at %.0f/s, %d received, %d dropped", perDatagram, n, sendRate, got-base, drops)
		rows = append(rows, []string{fmt.Sprintf("spectatord UDP loopback, %d line(s) per datagram, sent at %.0f lines/s: dropped", perDatagram, sendRate),
			fmt.Sprintf("%d of %d", drops, n), "—", "—", "0 at 400,000/s"})
	}
	return append([][]string{
		{"spectatord lines/s, unix socket, 32 lines per datagram", fmt.Sprintf("%.0f", unixRate), "—", "—", "≥ 1,000,000"},
	}, rows...), nil
}

// sendUDP sends udpRate lines per second for lineSeconds from udpSenders
// goroutines, perDatagram lines per datagram, and returns the lines sent
// and the rate achieved.
func sendUDP(addr string, c config, perDatagram int) (int64, float64, error) {
	var dgram []byte
	for i := 0; i < perDatagram; i++ {
		dgram = append(dgram, fmt.Sprintf("c:server.udp,status=2xx,i=%d:1\n", i)...)
	}
	var total atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	rate := float64(c.udpRate) / float64(c.udpSenders) / float64(perDatagram) // datagrams/s per sender
	want := int64(rate * c.lineSeconds)
	for w := 0; w < c.udpSenders; w++ {
		conn, err := net.Dial("udp", addr)
		if err != nil {
			return 0, 0, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Close()
			// Each datagram is its own message, sent up to 32 a system
			// call (sendmmsg), as a busy client process would; the server
			// still receives one datagram per message.
			pc := ipv4.NewPacketConn(conn.(*net.UDPConn))
			msgs := make([]ipv4.Message, 32)
			for i := range msgs {
				msgs[i].Buffers = [][]byte{dgram}
			}
			var n int64
			for n < want {
				due := int64(time.Since(start).Seconds() * rate)
				for n < due && n < want {
					k := int(min(due-n, want-n, int64(len(msgs))))
					sent, err := pc.WriteBatch(msgs[:k], 0)
					if err == nil {
						n += int64(sent)
					}
				}
				if n >= due {
					time.Sleep(100 * time.Microsecond)
				}
			}
			total.Add(n * int64(perDatagram))
		}()
	}
	wg.Wait()
	return total.Load(), float64(total.Load()) / time.Since(start).Seconds(), nil
}
