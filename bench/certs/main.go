// Command certs measures Gaffer's OCSP responder under a fixed request
// rate on loopback: it builds gaffer, starts `gaffer serve` on a fresh data
// directory, creates a root and an issuing CA, issues certificates (and
// revokes a tenth of them), then sends OCSP requests (RFC 6960 POST) at
// -rate per second for -duration from 64 keep-alive connections, each
// request's latency counted from when it was due, and prints the latency
// percentiles, the status counts and the CPU time per request of the
// server and of the load generator. It also times one CRL download.
//
//	go run ./bench/certs -rate 1000 -duration 30s
package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gaffer-sre/gaffer/bench/internal/benchserver"
	"golang.org/x/crypto/ocsp"
)

func main() {
	rate := flag.Int("rate", 1000, "OCSP requests per second")
	duration := flag.Duration("duration", 30*time.Second, "how long to send")
	certsN := flag.Int("certs", 500, "certificates to issue and ask about")
	method := flag.String("method", "POST", "POST, or GET (base64 request in the path)")
	prebuilt := flag.String("gaffer", "", "a gaffer binary to run instead of building ./cmd/gaffer")
	flag.Parse()
	if *rate <= 0 || *duration <= 0 || *duration > 10*time.Minute {
		log.Fatal("rate must be positive and duration at most 10m")
	}

	tmp, err := os.MkdirTemp("", "gaffer-bench-certs")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	srv, err := startServer(tmp, *prebuilt)
	if err != nil {
		os.RemoveAll(tmp)
		log.Fatal(err)
	}
	defer srv.Stop()
	ctx := context.Background()
	c := srv.Client
	must := func(err error) {
		if err != nil {
			srv.Stop()
			os.RemoveAll(tmp)
			log.Fatal(err)
		}
	}
	must(c.Do(ctx, "POST", "/api/v1/certs/authorities", map[string]any{"name": "root", "kind": "root"}, nil))
	must(c.Do(ctx, "POST", "/api/v1/certs/authorities", map[string]any{"name": "issuing", "kind": "intermediate", "parent": "root"}, nil))
	var issuer struct{ Certificate string }
	must(c.Do(ctx, "GET", "/api/v1/certs/authorities/issuing", nil, &issuer))
	ca := parsePEM(issuer.Certificate)
	var reqs [][]byte
	start := time.Now()
	for i := range *certsN {
		var cert struct{ Serial, Certificate string }
		must(c.Do(ctx, "POST", "/api/v1/certs/certificates", map[string]any{"common_name": fmt.Sprintf("host-%d.bench.internal", i)}, &cert))
		if i%10 == 0 {
			must(c.Do(ctx, "POST", "/api/v1/certs/certificates/"+cert.Serial+"/revoke", map[string]any{"reason": "superseded"}, nil))
		}
		req, err := ocsp.CreateRequest(parsePEM(cert.Certificate), ca, nil)
		must(err)
		reqs = append(reqs, req)
	}
	fmt.Printf("issued %d certificates through the API in %v (%.0f/s)\n", *certsN, time.Since(start).Round(time.Millisecond),
		float64(*certsN)/time.Since(start).Seconds())
	t0 := time.Now()
	crl, _, err := c.Get(ctx, "/api/v1/certs/crl/issuing")
	must(err)
	fmt.Printf("CRL download: %d bytes in %v\n", len(crl), time.Since(t0).Round(time.Microsecond))
	srvCPU0, selfCPU0 := procCPU(srv.Pid()), selfCPU()
	n := load(srv.URL+"/api/v1/certs/ocsp/issuing", reqs, *rate, *duration, *method)
	srvCPU, self := procCPU(srv.Pid())-srvCPU0, selfCPU()-selfCPU0
	fmt.Printf("CPU per request: server %v, load generator %v (of %d requests)\n",
		(srvCPU / time.Duration(n)).Round(time.Microsecond), (self / time.Duration(n)).Round(time.Microsecond), n)
}

// procCPU is a process's user and system CPU time from /proc.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	var ut, st int64
	fmt.Sscan(fields[11], &ut)
	fmt.Sscan(fields[12], &st)
	return time.Duration(ut+st) * time.Second / 100 // clock ticks of 1/100 s
}

// selfCPU is this process's CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// load sends requests at a fixed rate from a pool of workers with a
// keep-alive connection each. OCSP is RFC 6960 between relying parties
// and the responder, not Gaffer's JSON API (binary DER both ways, no
// token, no error envelope), so it has its own http.Client rather than
// the CLI's. Latency counts from the moment a request
// was due, not when a worker took it, so a stall that delays later
// requests is measured (no coordinated omission).
func load(url string, reqs [][]byte, rate int, duration time.Duration, method string) int {
	const workers = 64
	tr := &http.Transport{MaxIdleConnsPerHost: workers, MaxConnsPerHost: workers}
	hc := &http.Client{Timeout: 5 * time.Second, Transport: tr}
	interval := time.Second / time.Duration(rate)
	total := int(duration / interval)
	lat := make([]time.Duration, total)
	status := map[string]int{}
	var mu sync.Mutex
	type job struct {
		i   int
		due time.Time
	}
	jobs := make(chan job, total)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if d := time.Until(j.due); d > 0 {
					time.Sleep(d)
				}
				key := send(hc, url, reqs[j.i%len(reqs)], method)
				lat[j.i] = time.Since(j.due)
				mu.Lock()
				status[key]++
				mu.Unlock()
			}
		}()
	}
	start := time.Now()
	for i := range total {
		jobs <- job{i: i, due: start.Add(time.Duration(i) * interval)}
	}
	close(jobs)
	wg.Wait()
	sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
	pct := func(p float64) time.Duration {
		return lat[min(len(lat)-1, int(p*float64(len(lat))))].Round(time.Microsecond)
	}
	fmt.Printf("OCSP %s at %d req/s for %v: %d requests\n", method, rate, duration, total)
	fmt.Printf("latency p50 %v  p90 %v  p99 %v  p99.9 %v  max %v\n", pct(0.50), pct(0.90), pct(0.99), pct(0.999), lat[len(lat)-1].Round(time.Microsecond))
	var keys []string
	for k := range status {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("  %-24s %d\n", k, status[k])
	}
	return total
}

// send makes one OCSP request and names its outcome.
func send(hc *http.Client, url string, body []byte, method string) string {
	var req *http.Request
	if method == "GET" {
		req, _ = http.NewRequest("GET", url+"/"+encodeGET(body), nil)
	} else {
		req, _ = http.NewRequest("POST", url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/ocsp-request")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "error"
	}
	der, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	key := resp.Status
	if r, err := ocsp.ParseResponse(der, nil); err == nil {
		key += " " + map[int]string{ocsp.Good: "good", ocsp.Revoked: "revoked", ocsp.Unknown: "unknown"}[r.Status]
	}
	return key
}

func encodeGET(b []byte) string {
	return strings.NewReplacer("+", "%2B", "/", "%2F", "=", "%3D").Replace(base64.StdEncoding.EncodeToString(b))
}

func parsePEM(s string) *x509.Certificate {
	blk, _ := pem.Decode([]byte(s))
	if blk == nil {
		log.Fatal("no PEM certificate")
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		log.Fatal(err)
	}
	return c
}

// startServer runs `gaffer serve --roles certs` (prebuilt, or built from
// ./cmd/gaffer) on a fresh data directory in tmp, with --certs-url its
// own address so that certificates point at its OCSP responder and CRL.
func startServer(tmp, prebuilt string) (*benchserver.Server, error) {
	bin := prebuilt
	if bin == "" {
		var err error
		if bin, err = benchserver.Build(tmp); err != nil {
			return nil, err
		}
	}
	addr, err := benchserver.FreeAddr()
	if err != nil {
		return nil, err
	}
	nats, err := benchserver.FreeAddr()
	if err != nil {
		return nil, err
	}
	return benchserver.Start(benchserver.Config{Bin: bin, DataDir: filepath.Join(tmp, "data"), Listen: addr,
		Args: []string{"--nats-listen", nats, "--roles", "certs", "--certs-url", "http://" + addr}})
}
