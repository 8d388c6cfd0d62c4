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
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/bench/internal/benchserver"
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
	bin, err := benchserver.Build(tmp)
	if err != nil {
		log.Fatal(err)
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

// measure starts bin on dataDir and returns the time from process start
// to a ready /readyz and the resident memory after idle.
func measure(bin, dataDir string, idle time.Duration, demo bool) (time.Duration, float64, error) {
	args := []string{"--nats-listen", "127.0.0.1:0", "--log-level", "warn"}
	if demo {
		args = append(args, "--demo")
	}
	srv, err := benchserver.Start(benchserver.Config{Bin: bin, DataDir: dataDir, Out: os.Stderr, Args: args})
	if err != nil {
		return 0, 0, err
	}
	defer srv.Stop()
	ready := srv.ReadyAfter
	time.Sleep(idle)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", srv.Pid()))
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
