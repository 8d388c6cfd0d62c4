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
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

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
	bin := *prebuilt
	if bin == "" {
		bin = filepath.Join(tmp, "gaffer")
		build := exec.Command("go", "build", "-o", bin, "./cmd/gaffer")
		build.Stdout, build.Stderr = os.Stdout, os.Stderr
		if err := build.Run(); err != nil {
			log.Fatalf("build: %v", err)
		}
	}
	addr := freeAddr()
	base := "http://" + addr
	srv := exec.Command(bin, "serve", "--listen", addr, "--data-dir", filepath.Join(tmp, "data"), "--nats-listen", freeAddr(),
		"--roles", "certs", "--certs-url", base)
	srv.Stderr = io.Discard
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	defer func() {
		srv.Process.Signal(syscall.SIGTERM)
		srv.Wait()
	}()
	waitReady(base)
	tok := readToken(filepath.Join(tmp, "data", "admin.token"))
	c := &client{base: base, tok: tok, http: &http.Client{Timeout: 10 * time.Second}}
	c.post("/api/v1/certs/authorities", map[string]any{"name": "root", "kind": "root"}, nil)
	c.post("/api/v1/certs/authorities", map[string]any{"name": "issuing", "kind": "intermediate", "parent": "root"}, nil)
	var issuer struct{ Certificate string }
	c.get("/api/v1/certs/authorities/issuing", &issuer)
	ca := parsePEM(issuer.Certificate)
	var reqs [][]byte
	start := time.Now()
	for i := range *certsN {
		var cert struct{ Serial, Certificate string }
		c.post("/api/v1/certs/certificates", map[string]any{"common_name": fmt.Sprintf("host-%d.bench.internal", i)}, &cert)
		if i%10 == 0 {
			c.post("/api/v1/certs/certificates/"+cert.Serial+"/revoke", map[string]any{"reason": "superseded"}, nil)
		}
		req, err := ocsp.CreateRequest(parsePEM(cert.Certificate), ca, nil)
		if err != nil {
			log.Fatal(err)
		}
		reqs = append(reqs, req)
	}
	fmt.Printf("issued %d certificates through the API in %v (%.0f/s)\n", *certsN, time.Since(start).Round(time.Millisecond),
		float64(*certsN)/time.Since(start).Seconds())
	t0 := time.Now()
	resp, err := c.http.Get(base + "/api/v1/certs/crl/issuing")
	if err == nil {
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		fmt.Printf("CRL download: %d bytes in %v\n", n, time.Since(t0).Round(time.Microsecond))
	}
	srvCPU0, selfCPU0 := procCPU(srv.Process.Pid), selfCPU()
	n := load(base+"/api/v1/certs/ocsp/issuing", reqs, *rate, *duration, *method)
	srvCPU, self := procCPU(srv.Process.Pid)-srvCPU0, selfCPU()-selfCPU0
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
// keep-alive connection each. Latency counts from the moment a request
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

type client struct {
	base, tok string
	http      *http.Client
}

func (c *client) do(method, path string, body, out any) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+c.tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		log.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		log.Fatalf("%s %s: %s: %s", method, path, resp.Status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			log.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

func (c *client) post(path string, body, out any) { c.do("POST", path, body, out) }
func (c *client) get(path string, out any)        { c.do("GET", path, nil, out) }

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

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitReady(base string) {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	log.Fatal("gaffer did not become ready within 60s")
}

func readToken(path string) string {
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err == nil {
			return strings.TrimSpace(string(b))
		}
		if time.Now().After(deadline) {
			log.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
