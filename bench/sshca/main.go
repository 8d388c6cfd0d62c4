// Command sshca is the load test of the SSH CA's sign endpoint: it sends
// POST /api/v1/sshca/sign at a fixed rate (open loop: a slow answer does
// not delay the next request) and reports the latency distribution,
// measured from when each request was due.
//
//	go run ./bench/sshca -rate 500 -duration 30s
//
// By default it starts a Gaffer server in-process on loopback (embedded
// SQLite, a temporary data directory); -server and -token aim it at a
// running one instead, and -db runs the in-process server on PostgreSQL.
package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/gaffer-sre/gaffer/bench/internal/benchserver"
	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/cli"
	"github.com/gaffer-sre/gaffer/internal/platform/server"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/security/sshca"
)

func main() {
	rate := flag.Int("rate", 500, "requests per second")
	duration := flag.Duration("duration", 30*time.Second, "how long to send")
	warmup := flag.Duration("warmup", 3*time.Second, "load before measuring")
	target := flag.String("server", "", "a running Gaffer (default: start one in-process)")
	token := flag.String("token", "", "token with sshca:sign bound to an identity (with -server)")
	caFile := flag.String("ca-file", "", "CA certificate (PEM) of an https -server: its <data-dir>/ca.pem")
	db := flag.String("db", "", "database for the in-process server (default SQLite in a temporary directory)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the measured run (client and in-process server) here")
	flag.Parse()

	ctx := context.Background()
	if *target == "" {
		dir, err := os.MkdirTemp("", "gaffer-bench-sshca")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(dir)
		dsn := *db
		if dsn != "" {
			var drop func()
			if dsn, drop, err = freshSchema(ctx, dsn); err != nil {
				log.Fatal(err)
			}
			defer drop()
		}
		cfg := server.Config{Listen: "127.0.0.1:0", DataDir: dir, DB: dsn, NATSListen: "", Roles: []string{"sshca"}}
		srv, err := server.New(ctx, cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})), false)
		if err != nil {
			log.Fatal(err)
		}
		if err := srv.Start(ctx); err != nil {
			log.Fatal(err)
		}
		defer srv.Shutdown()
		_, secret, err := srv.Deps().Tokens.Create(ctx, auth.CreateRequest{Name: "bench", Identity: "bench", Scopes: []string{sshca.ScopeSign}})
		if err != nil {
			log.Fatal(err)
		}
		*target, *token = "http://"+srv.Addr(), secret
	}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	pub, _ := ssh.NewPublicKey(priv.Public())
	body, _ := json.Marshal(sshca.SignRequest{PublicKey: string(bytes.TrimSpace(ssh.MarshalAuthorizedKey(pub)))})

	api, err := (&cli.ClientFlags{Server: *target, Token: *token, CAFile: *caFile, Timeout: 10 * time.Second}).Client()
	if err != nil {
		log.Fatal(err)
	}
	c := benchserver.Pooled(api, 1024, 10*time.Second)
	send := func() error {
		return c.DoRaw(ctx, "POST", "/api/v1/sshca/sign", "application/json", body, nil)
	}
	if err := send(); err != nil {
		log.Fatalf("first request: %v", err)
	}
	run(send, *rate, *warmup) // let connections and caches settle
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	lat, errs, elapsed := run(send, *rate, *duration)
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	fmt.Printf("target %s, GOMAXPROCS %d, %d req/s asked for %s\n", *target, runtime.GOMAXPROCS(0), *rate, *duration)
	fmt.Printf("sent %d, errors %d, achieved %.0f req/s\n", len(lat)+errs, errs, float64(len(lat)+errs)/elapsed.Seconds())
	fmt.Printf("latency p50 %s  p90 %s  p99 %s  p99.9 %s  max %s\n", r(pct(0.50)), r(pct(0.90)), r(pct(0.99)), r(pct(0.999)), r(pct(1)))
}

func r(d time.Duration) time.Duration { return d.Round(10 * time.Microsecond) }

// run sends at rate for d and returns the latencies of successful
// requests, measured from when each was due, and the error count.
func run(send func() error, rate int, d time.Duration) ([]time.Duration, int, time.Duration) {
	var (
		mu       sync.Mutex
		lat      []time.Duration
		errs     int
		firstErr error
		wg       sync.WaitGroup
	)
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	n := int(d / interval)
	sem := make(chan struct{}, 2000)
	for i := 0; i < n; i++ {
		due := start.Add(time.Duration(i) * interval)
		if wait := time.Until(due); wait > 0 {
			time.Sleep(wait)
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			err := send()
			took := time.Since(due)
			mu.Lock()
			if err != nil {
				if errs == 0 {
					firstErr = err
				}
				errs++
			} else {
				lat = append(lat, took)
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if firstErr != nil {
		log.Printf("first error: %v", firstErr)
	}
	return lat, errs, time.Since(start)
}

// freshSchema creates a schema for the run in the PostgreSQL database at
// dsn and returns an address that selects it, and a function dropping it.
func freshSchema(ctx context.Context, dsn string) (string, func(), error) {
	admin, err := store.Open(ctx, dsn)
	if err != nil {
		return "", nil, err
	}
	schema := fmt.Sprintf("gaffer_bench_sshca_%d", time.Now().UnixNano())
	if _, err := admin.DB.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		return "", nil, err
	}
	u, err := url.Parse(dsn)
	if err != nil {
		admin.Close()
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), func() {
		admin.DB.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	}, nil
}
