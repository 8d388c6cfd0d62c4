// Command events-bench measures the event platform end to end over HTTP:
// events are POSTed to /api/v1/events at a fixed rate, go through the
// durable stream and a rule, and reach a webhook receiver on loopback,
// which records the delay from each event's time (the moment it was due
// to be sent, so a client falling behind counts against the figures) to
// its delivery.
//
//	go run ./bench/events [-rate 2000] [-duration 20s] [-clients 64] [-rules 100]
//	go run ./bench/events -find-max [-rate 1000] [-step 500] [-duration 10s]
//	go run ./bench/events -server http://127.0.0.1:7070 -token-file gaffer-data/admin.token
//
// Without -server it builds ./cmd/gaffer and runs `gaffer serve` on a
// fresh data directory (SQLite and the embedded NATS).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gaffer-sre/gaffer/bench/internal/benchserver"
	"github.com/gaffer-sre/gaffer/internal/platform/cli"
)

func main() {
	target := benchserver.TargetFlags(flag.CommandLine)
	rate := flag.Int("rate", 2000, "events per second")
	duration := flag.Duration("duration", 20*time.Second, "how long to send at each rate")
	clients := flag.Int("clients", 64, "concurrent HTTP clients")
	rules := flag.Int("rules", 100, "rules that do not match the benchmark's events (the one that does is added)")
	findMax := flag.Bool("find-max", false, "raise the rate by -step until delivery falls behind")
	step := flag.Int("step", 500, "rate increment for -find-max")
	p99Goal := flag.Duration("p99", 50*time.Millisecond, "-find-max: the p99 a rate must keep to count as sustained")
	serveArgs := flag.String("serve-args", "", "extra arguments for the started gaffer serve")
	flag.Parse()

	b := &bench{clients: *clients}
	if err := b.setup(target, *rules, strings.Fields(*serveArgs)); err != nil {
		fmt.Fprintln(os.Stderr, "events-bench:", err)
		b.close()
		os.Exit(1)
	}
	defer b.close()
	fmt.Printf("server %s, %d clients, %d rules\n", b.api.Server, *clients, *rules+1)
	fmt.Println("rate/s  sent  accepted  errors  delivered  publish p50/p99  delivery p50   p90    p99    max   server CPU")
	best := 0
	for r := *rate; ; r += *step {
		res := b.run(r, *duration)
		fmt.Println(res)
		if !*findMax {
			break
		}
		if !res.sustained(*p99Goal) {
			break
		}
		best = r
	}
	if *findMax {
		fmt.Printf("maximum sustained rate: %d events/s (every event delivered, p99 ≤ %s)\n", best, *p99Goal)
	}
}

type bench struct {
	// api calls Gaffer with a connection pool for every client.
	api     *cli.Client
	clients int
	srv     *benchserver.Server // nil with -server
	recv    *receiver
	run0    string
}

func (b *bench) close() { b.srv.Stop() }

func (b *bench) setup(target *cli.ClientFlags, rules int, serveArgs []string) error {
	b.run0 = fmt.Sprintf("%x", time.Now().UnixNano())
	recv, err := newReceiver()
	if err != nil {
		return err
	}
	b.recv = recv
	// The receiver is on loopback, which the egress policy refuses unless
	// allowed (a -server must allow it itself).
	args := append([]string{"--nats-listen", "", "--log-level", "warn", "--egress-allow", strings.TrimPrefix(recv.url, "http://")}, serveArgs...)
	c, srv, err := benchserver.Connect(target, os.Stderr, args...)
	if err != nil {
		return err
	}
	b.srv, b.api = srv, benchserver.Pooled(c, b.clients*2, 30*time.Second)
	ctx := context.Background()
	for i := 0; i < rules; i++ {
		// Rules on other types and services: the index keeps them away.
		spec := map[string]any{"name": fmt.Sprintf("bench filler %s %d", b.run0, i),
			"condition": fmt.Sprintf(`type == "bench.other.%d" && data.service == "svc%d"`, i%10, i),
			"actions":   []map[string]any{{"type": "webhook", "url": recv.url + "/filler"}}}
		if err := b.api.Do(ctx, "POST", "/api/v1/events/rules", spec, nil); err != nil {
			return err
		}
	}
	spec := map[string]any{"name": "bench e2e " + b.run0,
		"condition": `type == "bench.e2e" && source == "/bench/` + b.run0 + `"`,
		"actions":   []map[string]any{{"type": "webhook", "url": recv.url + "/hook"}}}
	return b.api.Do(ctx, "POST", "/api/v1/events/rules", spec, nil)
}

// result is one rate's run.
type result struct {
	rate                   int
	sent, accepted, errors int64
	delivered              int
	pub50, pub99           time.Duration
	p50, p90, p99, max     time.Duration
	firstError             string
	// serverCPU is the CPU time the started server used during the run
	// (0 when targeting another server).
	serverCPU time.Duration
	elapsed   time.Duration
}

// String is the run's row of the table.
func (r result) String() string {
	cpu := ""
	if r.serverCPU > 0 && r.accepted > 0 {
		cpu = fmt.Sprintf("%.2f cores, %.0f µs/event", r.serverCPU.Seconds()/r.elapsed.Seconds(),
			float64(r.serverCPU.Microseconds())/float64(r.accepted))
	}
	return fmt.Sprintf("%6d %6d %9d %7d %10d %8s/%-8s %12s %6s %6s %6s   %s%s", r.rate, r.sent, r.accepted, r.errors, r.delivered,
		ms(r.pub50), ms(r.pub99), ms(r.p50), ms(r.p90), ms(r.p99), ms(r.max), cpu, r.note())
}

func (r result) note() string {
	if r.firstError != "" {
		return "  first error: " + r.firstError
	}
	return ""
}

func (r result) sustained(p99 time.Duration) bool {
	return r.errors == 0 && int64(r.delivered) >= r.accepted && r.p99 <= p99
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

// run sends at rate for d with the clients, then waits for deliveries.
func (b *bench) run(rate int, d time.Duration) result {
	ctx := context.Background()
	res := result{rate: rate}
	b.recv.reset()
	cpu0, began := b.serverCPU(), time.Now()
	src := "/bench/" + b.run0
	total := int(float64(rate) * d.Seconds())
	due := make(chan time.Time, total)
	var pubMu sync.Mutex
	var pubLat []time.Duration
	var wg sync.WaitGroup
	var seq atomic.Int64
	var errOnce sync.Once
	for c := 0; c < b.clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for at := range due {
				n := seq.Add(1)
				body := fmt.Sprintf(`{"specversion":"1.0","id":"%s-%d-%d","source":%q,"type":"bench.e2e","time":%q,"data":{"n":%d,"service":"checkout"}}`,
					b.run0, rate, n, src, at.UTC().Format(time.RFC3339Nano), n)
				start := time.Now()
				err := b.api.DoRaw(ctx, "POST", "/api/v1/events", "application/cloudevents+json", []byte(body), nil)
				atomic.AddInt64(&res.sent, 1)
				if err != nil {
					atomic.AddInt64(&res.errors, 1)
					errOnce.Do(func() { res.firstError = err.Error() })
					continue
				}
				atomic.AddInt64(&res.accepted, 1)
				mine = append(mine, time.Since(start))
			}
			pubMu.Lock()
			pubLat = append(pubLat, mine...)
			pubMu.Unlock()
		}()
	}
	// Open loop: event i is due at start + i/rate whatever the server does.
	start := time.Now()
	interval := time.Second / time.Duration(rate)
	for i := 0; i < total; i++ {
		at := start.Add(time.Duration(i) * interval)
		if wait := time.Until(at); wait > 0 {
			time.Sleep(wait)
		}
		due <- at
	}
	close(due)
	wg.Wait()
	// Let deliveries drain.
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if int64(b.recv.count()) >= res.accepted {
			break
		}
	}
	res.serverCPU, res.elapsed = b.serverCPU()-cpu0, time.Since(began)
	lat := b.recv.latencies()
	res.delivered = len(lat)
	res.p50, res.p90, res.p99, res.max = pct(lat, 0.5), pct(lat, 0.9), pct(lat, 0.99), pct(lat, 1)
	res.pub50, res.pub99 = pct(pubLat, 0.5), pct(pubLat, 0.99)
	return res
}

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	i := int(float64(len(d)-1) * p)
	return d[i]
}

// serverCPU reads the started server's CPU time from /proc (Linux); 0
// elsewhere or when targeting another server.
func (b *bench) serverCPU() time.Duration {
	if b.srv == nil {
		return 0
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", b.srv.Pid()))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces): utime and
	// stime are the 12th and 13th, in clock ticks (100 per second).
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	var utime, stime int64
	fmt.Sscan(f[11], &utime)
	fmt.Sscan(f[12], &stime)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// receiver is the webhook target: it records, per event ID, the delay
// from the event's time to its first delivery.
type receiver struct {
	url string
	mu  sync.Mutex
	lat map[string]time.Duration
}

func newReceiver() (*receiver, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &receiver{url: "http://" + l.Addr().String(), lat: map[string]time.Duration{}}
	go http.Serve(l, r)
	return r, nil
}

// ServeHTTP records a delivery.
func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	now := time.Now()
	var ev struct {
		ID   string    `json:"id"`
		Time time.Time `json:"time"`
	}
	if err := json.NewDecoder(req.Body).Decode(&ev); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	if _, seen := r.lat[ev.ID]; !seen {
		r.lat[ev.ID] = now.Sub(ev.Time)
	}
	r.mu.Unlock()
}

func (r *receiver) reset() {
	r.mu.Lock()
	r.lat = map[string]time.Duration{}
	r.mu.Unlock()
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.lat)
}

func (r *receiver) latencies() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]time.Duration, 0, len(r.lat))
	for _, d := range r.lat {
		out = append(out, d)
	}
	return out
}
