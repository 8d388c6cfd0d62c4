package metrics

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/gaffer-sre/gaffer/telemetry/prom"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// The demo: four services in three regions, two instances each, scraped
// every minute, with daily seasonality, noise, a nightly restart (counter
// reset) and three incidents that recur every three days, so the last
// three days always hold each once:
//
//   - latency: job="api" in eu-west-1, six times slower for 45 minutes;
//   - traffic: job="playback" in us-west-2, requests drop by 70% for 30
//     minutes;
//   - errors: job="web" in us-east-1, 15% of requests fail for 20 minutes.
//
// and one incident going on when the demo starts (see demoOngoing), which
// the rest of the demo is about: its deploy event, its alert, the
// analysis and the runbook run.
//
// Every value is a function of the series and the minute, so loading the
// demo again (after a restart) writes the same samples, which the store
// accepts and ignores.
var (
	demoJobs    = []string{"api", "web", "playback", "search"}
	demoRegions = []string{"us-east-1", "us-west-2", "eu-west-1"}
	demoBuckets = []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5}
	// demoBase is each job's requests per second per instance at the mean.
	demoBase = map[string]float64{"api": 120, "web": 80, "playback": 200, "search": 50}
	// demoMedian is each job's median latency in seconds.
	demoMedian = map[string]float64{"api": 0.06, "web": 0.11, "playback": 0.2, "search": 0.04}
	// demoRegionShare scales traffic by region.
	demoRegionShare = map[string]float64{"us-east-1": 1.0, "us-west-2": 0.7, "eu-west-1": 0.5}
)

const (
	demoDays       = 3
	demoPeriodMin  = demoDays * 24 * 60
	demoInstances  = 2
	demoLatencySig = 0.6
)

// demoIncident is a recurring incident: minutes [From, To) of the
// three-day period, counted from the Unix epoch.
type demoIncident struct {
	Job, Region string
	From, To    int64
	Latency     float64 // latency factor
	Traffic     float64 // request rate factor
	Errors      float64 // error ratio during the incident
}

var demoIncidents = []demoIncident{
	{Job: "api", Region: "eu-west-1", From: 1200, To: 1245, Latency: 6, Traffic: 1},
	{Job: "playback", Region: "us-west-2", From: 2500, To: 2530, Latency: 1, Traffic: 0.3},
	{Job: "web", Region: "us-east-1", From: 3700, To: 3720, Latency: 1.3, Traffic: 1, Errors: 0.15},
}

// The ongoing incident: web v2.14.0, deployed to us-east-1 a quarter of
// an hour before the demo was first loaded (platform.Deps.DemoStart; the
// events demo publishes the deploy), makes a tenth of web's requests there
// fail for two hours. Anchored to the demo's start, it is going on
// whenever someone first opens a demo, and the same after a restart.
const (
	demoOngoingLead     = 15 * time.Minute
	demoOngoingDuration = 2 * time.Hour
)

// demoOngoing is the ongoing incident for a demo started at start, its
// From and To in minutes since the Unix epoch (not a phase).
func demoOngoing(start time.Time) demoIncident {
	from := start.Add(-demoOngoingLead).Unix() / 60
	return demoIncident{Job: "web", Region: "us-east-1", From: from, To: from + int64(demoOngoingDuration/time.Minute),
		Latency: 1.2, Traffic: 1, Errors: 0.1}
}

// affects says whether inc changes job in region at minute m of its
// period (or, for an ongoing incident, at minute m since the epoch).
func (inc demoIncident) affects(job, region string, m int64) bool {
	return inc.Job == job && inc.Region == region && m >= inc.From && m < inc.To
}

// demoInstance is one instance's series and running counters.
type demoInstance struct {
	job, region, instance string
	seed                  uint64
	ongoing               []demoIncident // minutes since the epoch

	up, ok, failed, cpu, mem, sum, count tsdb.Labels
	buckets                              []tsdb.Labels // one per demoBuckets, then +Inf

	// Running counters (integers; sum and cpu in milliseconds), valid
	// for minute `at`.
	at                         int64
	nOK, nFailed, sumMs, cpuMs int64
	nBucket                    []int64
}

func newDemoInstances(ongoing ...demoIncident) []*demoInstance {
	var out []*demoInstance
	for _, job := range demoJobs {
		for _, region := range demoRegions {
			for i := 0; i < demoInstances; i++ {
				name := fmt.Sprintf("%s-%s-%d:9090", job, region, i)
				base := []string{"job", job, "region", region, "instance", name}
				with := func(metric string, kv ...string) tsdb.Labels {
					return tsdb.FromStrings(append(append([]string{tsdb.MetricName, metric}, base...), kv...)...)
				}
				d := &demoInstance{job: job, region: region, instance: name, seed: hash64(name), at: -1, ongoing: ongoing,
					up: with("up"), ok: with("http_requests_total", "code", "200"),
					failed: with("http_requests_total", "code", "500"), cpu: with("process_cpu_seconds_total"),
					mem: with("process_resident_memory_bytes"), sum: with("http_request_duration_seconds_sum"),
					count: with("http_request_duration_seconds_count"), nBucket: make([]int64, len(demoBuckets)+1)}
				for _, le := range demoBuckets {
					d.buckets = append(d.buckets, with("http_request_duration_seconds_bucket", "le", prom.FormatLe(le)))
				}
				d.buckets = append(d.buckets, with("http_request_duration_seconds_bucket", "le", "+Inf"))
				out = append(out, d)
			}
		}
	}
	return out
}

// hash64 is FNV-1a.
func hash64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// noise is a deterministic uniform value in [0, 1) for (seed, minute, k).
func noise(seed uint64, minute int64, k uint64) float64 {
	z := seed ^ uint64(minute)*0x9e3779b97f4a7c15 ^ k*0xbf58476d1ce4e5b9
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return float64(z>>11) / (1 << 53)
}

// demoStep is what one instance did in one minute.
type demoStep struct {
	ok, failed, sumMs, cpuMs int64
	buckets                  []int64 // cumulative, +Inf last
	memBytes                 float64
}

func (d *demoInstance) step(minute int64) demoStep {
	hour := float64(minute%1440) / 60
	// Busiest around 20:00 UTC, quietest around 08:00.
	diurnal := 1 + 0.45*math.Sin(2*math.Pi*(hour-14)/24)
	rate := demoBase[d.job] * demoRegionShare[d.region] * diurnal * (0.95 + 0.1*noise(d.seed, minute, 1))
	latency := demoMedian[d.job] * (0.9 + 0.2*noise(d.seed, minute, 2)) * (1 + 0.2*(diurnal-1))
	errRatio := 0.002 + 0.002*noise(d.seed, minute, 3)
	apply := func(inc demoIncident) {
		rate *= inc.Traffic
		latency *= inc.Latency
		if inc.Errors > 0 {
			errRatio = inc.Errors
		}
	}
	for _, inc := range demoIncidents {
		if inc.affects(d.job, d.region, minute%demoPeriodMin) {
			apply(inc)
		}
	}
	for _, inc := range d.ongoing {
		if inc.affects(d.job, d.region, minute) {
			apply(inc)
		}
	}
	total := int64(rate * 60)
	s := demoStep{failed: int64(float64(total) * errRatio), buckets: make([]int64, len(demoBuckets)+1)}
	s.ok = total - s.failed
	for i, le := range demoBuckets {
		frac := 0.5 * math.Erfc(-(math.Log(le)-math.Log(latency))/(demoLatencySig*math.Sqrt2))
		s.buckets[i] = int64(float64(total) * frac)
	}
	s.buckets[len(demoBuckets)] = total
	s.sumMs = int64(float64(total) * latency * math.Exp(demoLatencySig*demoLatencySig/2) * 1000)
	s.cpuMs = int64((0.15 + rate*0.002) * 60 * 1000)
	s.memBytes = math.Round((300 + 40*diurnal + 10*noise(d.seed, minute, 4)) * float64(1<<20))
	return s
}

// advance brings the running counters to minute, restarting them at
// midnight UTC (a nightly deploy restarts every process).
func (d *demoInstance) advance(minute int64) demoStep {
	dayStart := minute - minute%1440
	if d.at < dayStart || d.at >= minute {
		d.at, d.nOK, d.nFailed, d.sumMs, d.cpuMs = dayStart-1, 0, 0, 0, 0
		clear(d.nBucket)
	}
	var s demoStep
	for m := d.at + 1; m <= minute; m++ {
		s = d.step(m)
		d.nOK += s.ok
		d.nFailed += s.failed
		d.sumMs += s.sumMs
		d.cpuMs += s.cpuMs
		for i, b := range s.buckets {
			d.nBucket[i] += b
		}
	}
	d.at = minute
	return s
}

// emit writes the instance's samples for minute.
func (d *demoInstance) emit(minute int64, add func(tsdb.Labels, int64, float64) error) error {
	s := d.advance(minute)
	t := minute * 60_000
	vals := []struct {
		ls tsdb.Labels
		v  float64
	}{
		{d.up, 1}, {d.ok, float64(d.nOK)}, {d.failed, float64(d.nFailed)},
		{d.cpu, float64(d.cpuMs) / 1000}, {d.mem, s.memBytes},
		{d.sum, float64(d.sumMs) / 1000}, {d.count, float64(d.nOK + d.nFailed)},
	}
	for _, v := range vals {
		if err := add(v.ls, t, v.v); err != nil {
			return err
		}
	}
	for i, ls := range d.buckets {
		if err := add(ls, t, float64(d.nBucket[i])); err != nil {
			return err
		}
	}
	return nil
}

// LoadDemo fills the store with the last three days of demo metrics at
// one-minute resolution, the ongoing incident included, resuming after the newest demo sample already
// stored, and keeps appending every minute while the server runs.
func (s *Service) LoadDemo(ctx context.Context) error {
	if s.db == nil {
		return nil
	}
	start, err := s.demoStart()
	if err != nil {
		return fmt.Errorf("metrics demo: %w", err)
	}
	insts := newDemoInstances(demoOngoing(start))
	now := s.now().Unix() / 60
	from := now - demoPeriodMin
	if last, ok := s.lastDemoMinute(); ok && last >= from {
		from = last + 1
	}
	started := time.Now()
	n, err := s.appendDemo(insts, from, now)
	if err != nil {
		return fmt.Errorf("metrics demo: %w", err)
	}
	s.log.Info("metrics demo loaded", "samples", n, "minutes", now-from+1, "took", time.Since(started).Round(time.Millisecond))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.demoRun || s.stop == nil {
		return nil
	}
	s.demoRun = true
	s.wg.Add(1)
	go s.demoLoop(insts, now, s.stop)
	return nil
}

func (s *Service) demoLoop(insts []*demoInstance, last int64, stop chan struct{}) {
	defer s.wg.Done()
	t := time.NewTicker(15 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		now := s.now().Unix() / 60
		if now <= last {
			continue
		}
		if _, err := s.appendDemo(insts, last+1, now); err != nil {
			s.log.Warn("metrics demo: append", "error", err)
		}
		last = now
	}
}

// appendDemo writes minutes [from, to], an hour per batch.
func (s *Service) appendDemo(insts []*demoInstance, from, to int64) (int, error) {
	n := 0
	for start := from; start <= to; start += 60 {
		end := min(start+59, to)
		app := s.db.Appender()
		add := func(ls tsdb.Labels, t int64, v float64) error {
			_, err := app.Append(0, ls, t, v)
			if err != nil && prom.Refused(err) {
				return nil // already stored with another value, or too old
			}
			n++
			return err
		}
		for m := start; m <= end; m++ {
			for _, d := range insts {
				if err := d.emit(m, add); err != nil {
					app.Rollback()
					return n, err
				}
			}
		}
		if err := app.Commit(); err != nil {
			return n, err
		}
	}
	return n, nil
}

// lastDemoMinute finds the newest demo sample in the last three days.
func (s *Service) lastDemoMinute() (int64, bool) {
	now := s.now().UnixMilli()
	q, err := s.db.Querier(now-demoPeriodMin*60_000, now+time.Hour.Milliseconds())
	if err != nil {
		return 0, false
	}
	defer q.Close()
	set := q.Select(nil, tsdb.MustMatcher(tsdb.MatchEqual, tsdb.MetricName, "up"),
		tsdb.MustMatcher(tsdb.MatchEqual, "instance", newDemoInstances()[0].instance))
	var last int64 = -1
	for set.Next() {
		it := set.At().Iterator()
		for it.Next() {
			t, _ := it.At()
			last = max(last, t)
		}
	}
	if last < 0 {
		return 0, false
	}
	return last / 60_000, true
}
