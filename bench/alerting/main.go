// Command alerting-bench measures rule evaluation the way it runs in
// gaffer serve: the alerting system's own scheduler, workers and saver
// over a real metrics store, for a number of rules a minute, on a chosen
// number of cores. It reports the evaluations done, the lag of each
// evaluation behind its due time (p50, p99, max) and the CPU the process
// used per minute.
//
//	go run ./bench/alerting [-rules 10000] [-duration 3m] [-procs 1] [-mix promql=0.7,atlas=0.2,des=0.1]
//
// Every rule watches a series of its own (bench_value{id="<n>"}, one
// sample a minute over the three hours before the run and the run
// itself, so nothing is ingested while it runs) and is evaluated every
// minute: PromQL thresholds (one instant query), Atlas thresholds (an
// Atlas graph over the last step) and PromQL with an sdes-slower band
// (three hours of history per evaluation).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gaffer-sre/gaffer/alerting"
	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/telemetry/metrics"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

func main() {
	rules := flag.Int("rules", 10_000, "rules, each evaluated every minute")
	duration := flag.Duration("duration", 3*time.Minute, "how long to run the scheduler")
	procs := flag.Int("procs", 1, "GOMAXPROCS: the cores the process may use")
	mixFlag := flag.String("mix", "promql=0.7,atlas=0.2,des=0.1", "share of each kind of rule")
	flag.Parse()
	mix, err := parseMix(*mixFlag)
	if err != nil {
		log.Fatal(err)
	}
	runtime.GOMAXPROCS(*procs)
	if err := run(*rules, *duration, mix); err != nil {
		log.Fatal(err)
	}
}

func parseMix(s string) (map[string]float64, error) {
	out := map[string]float64{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		f, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil || (k != "promql" && k != "atlas" && k != "des") {
			return nil, fmt.Errorf("-mix: want promql=…,atlas=…,des=…, got %q", kv)
		}
		out[k] = f
	}
	return out, nil
}

func cpu() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// spec is rule n of the mix.
func spec(n int, kind string) alerting.Spec {
	sel := fmt.Sprintf(`bench_value{id="%d"}`, n)
	s := alerting.Spec{Name: fmt.Sprintf("bench-%d", n), Group: kind, Labels: map[string]string{"severity": "page"},
		Annotations: map[string]string{"summary": "{{ $labels.id }} is at {{ $value }}"}}
	switch kind {
	case "atlas":
		s.Atlas = fmt.Sprintf("name,bench_value,:eq,id,%d,:eq,:and,:sum,150,:gt", n)
	case "des":
		s.PromQL = sel
		s.Condition = &alerting.Condition{DES: &alerting.DESBand{Preset: "sdes-slower", MaxPercent: 0.5},
			RollingCount: &alerting.RollingCount{N: 3, M: 5}}
	default:
		s.PromQL = sel + " > 150"
	}
	return s
}

func run(n int, d time.Duration, mix map[string]float64) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "alerting-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := store.Open(ctx, filepath.Join(dir, "gaffer.db"))
	if err != nil {
		return err
	}
	defer st.Close()
	deps := &platform.Deps{Log: logger, Store: st, DataDir: dir}
	mods, err := platform.Modules()
	if err != nil {
		return err
	}
	for _, m := range mods {
		if m.Name == alerting.Name {
			if err := st.Migrate(ctx, m.Name, m.Migrations); err != nil {
				return err
			}
		}
	}
	msvc, err := metrics.New(ctx, deps)
	if err != nil {
		return err
	}
	defer msvc.Stop(ctx)
	deps.Provide(metrics.Name, msvc)
	if err := fill(msvc.(*metrics.Service).DB(), n, d); err != nil {
		return err
	}
	svc, err := alerting.New(ctx, deps)
	if err != nil {
		return err
	}
	as := svc.(*alerting.Service)
	kinds := []string{"promql", "atlas", "des"}
	counts := map[string]int{}
	for i := range n {
		kind := kinds[0]
		acc, x := 0.0, (float64(i)+0.5)/float64(n)
		for _, k := range kinds {
			if acc += mix[k]; x < acc {
				kind = k
				break
			}
		}
		counts[kind]++
		if _, _, err := as.SaveRule(ctx, "", spec(i, kind), "bench", "bench"); err != nil {
			return fmt.Errorf("rule %d: %w", i, err)
		}
	}
	if err := as.Start(ctx); err != nil {
		return err
	}
	// Skip the first minute: every rule starts within it.
	time.Sleep(time.Minute)
	before, cpu0, t0 := as.Status().Lag.Evaluations, cpu(), time.Now()
	time.Sleep(d)
	st1 := as.Status()
	used, wall := cpu()-cpu0, time.Since(t0)
	as.Stop(ctx)
	evals := st1.Lag.Evaluations - before
	perMin := float64(evals) / wall.Minutes()
	fmt.Printf("rules %d (%v), GOMAXPROCS %d, %s measured after a minute of warm-up\n", n, counts, runtime.GOMAXPROCS(0), wall.Round(time.Second))
	fmt.Printf("evaluations %d (%.0f a minute), lag over the last %d: p50 %s, p99 %s, max %s\n", evals, perMin, st1.Lag.Window,
		st1.Lag.P50.Round(time.Microsecond), st1.Lag.P99.Round(time.Microsecond), st1.Lag.Max.Round(time.Microsecond))
	fmt.Printf("CPU %.1f s a minute (%.0f µs an evaluation)\n", used.Seconds()/wall.Minutes(), float64(used.Microseconds())/float64(max(evals, 1)))
	return nil
}

// fill writes one sample a minute for every rule's series, from three
// hours before now to the end of the run.
func fill(db *tsdb.DB, n int, d time.Duration) error {
	start := time.Now().Add(-3 * time.Hour).Truncate(time.Minute)
	end := time.Now().Add(d + 3*time.Minute)
	for from := start; from.Before(end); from = from.Add(time.Hour) {
		app := db.Appender()
		for i := range n {
			ls := tsdb.FromStrings("__name__", "bench_value", "id", strconv.Itoa(i))
			for t := from; t.Before(from.Add(time.Hour)) && t.Before(end); t = t.Add(time.Minute) {
				v := 100 + 10*float64((t.Unix()/60+int64(i))%7)
				if _, err := app.Append(0, ls, t.UnixMilli(), v); err != nil {
					return err
				}
			}
		}
		if err := app.Commit(); err != nil {
			return err
		}
	}
	return nil
}
