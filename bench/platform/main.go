// Command platform measures `gaffer serve`: the time from process start to
// a ready /readyz, and the resident memory once idle. It builds the binary,
// runs it on a fresh data directory N times, and prints the figures.
//
//	go run ./bench/platform -runs 5 -idle 10s
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	runs := flag.Int("runs", 5, "how many cold starts to measure")
	idle := flag.Duration("idle", 10*time.Second, "how long to stay idle before reading RSS")
	demo := flag.Bool("demo", false, "start with --demo")
	flag.Parse()

	tmp, err := os.MkdirTemp("", "gaffer-bench-platform")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "gaffer")
	build := exec.Command("go", "build", "-o", bin, "./cmd/gaffer")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		log.Fatalf("build: %v", err)
	}
	var starts []time.Duration
	var rss []float64
	for i := 0; i < *runs; i++ {
		d, r, err := measure(bin, filepath.Join(tmp, fmt.Sprintf("data%d", i)), *idle, *demo)
		if err != nil {
			log.Fatal(err)
		}
		starts = append(starts, d)
		rss = append(rss, r)
		fmt.Printf("run %d: ready after %v, idle RSS %.1f MiB\n", i+1, d.Round(time.Millisecond), r)
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
	sort.Float64s(rss)
	fmt.Printf("median: ready after %v, idle RSS %.1f MiB (max %.1f MiB)\n",
		starts[len(starts)/2].Round(time.Millisecond), rss[len(rss)/2], rss[len(rss)-1])
}

func freePort() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func measure(bin, dataDir string, idle time.Duration, demo bool) (time.Duration, float64, error) {
	addr := freePort()
	args := []string{"serve", "--listen", addr, "--data-dir", dataDir, "--nats-listen", "127.0.0.1:0", "--log-level", "warn"}
	if demo {
		args = append(args, "--demo")
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	var ready time.Duration
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				ready = time.Since(start)
				break
			}
		}
		if time.Since(start) > 60*time.Second {
			return 0, 0, fmt.Errorf("not ready after 60s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(idle)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			kb, _ := strconv.ParseFloat(strings.Fields(line)[1], 64)
			return ready, kb / 1024, nil
		}
	}
	return ready, 0, fmt.Errorf("no VmRSS")
}
