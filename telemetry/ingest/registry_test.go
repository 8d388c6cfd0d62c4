package ingest

import (
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/telemetry/prom"
)

var timeZero = time.Unix(1_700_000_000, 0)

// measured indexes a measurement by series.
func measured(series []prom.TimeSeries) map[string]float64 {
	out := map[string]float64{}
	for _, s := range series {
		out[s.Labels.String()] = s.Samples[0].Value
	}
	return out
}

func feed(r *Registry, at time.Time, lines ...string) {
	for _, l := range lines {
		r.HandleDatagram([]byte(l), at)
	}
}

func TestRegistrySemantics(t *testing.T) {
	r := &Registry{Common: map[string]string{"nf.app": "demo"}}
	t0 := timeZero
	step := 10 * time.Second
	feed(r, t0,
		"c:req,status=2xx:3\nc:req,status=2xx:2\nc:req,status=2xx:-4", // negative increments are ignored
		"g:queue:7\ng:queue:5",
		"g,15:short:1",
		"m:inflight:3\nm:inflight:9\nm:inflight:4",
		"A:age:1699999990",
		"C:bytes:100\nC:bytes:150\nC:bytes:120\nC:bytes:130", // 50, then a reset, then 10
		"t:lat:0.5\nt:lat:1.5",
		"d:size:10\nd:size:30",
		"T:plat:0.001\nD:psize:5",
		"c:req,status=2xx:1\nc:req,status=2xx:1", // same meter, tags in the same order
	)
	feed(r, t0, "c:multi,b=2,a=1:1", "c:multi,a=1,b=2:1") // tag order does not make two meters
	got := measured(r.Measure(t0.Add(step), step))
	want := map[string]float64{
		`req{nf.app="demo", statistic="count", status="2xx"}`:              0.7,
		`queue{nf.app="demo", statistic="gauge"}`:                          5,
		`short{nf.app="demo", statistic="gauge"}`:                          1,
		`inflight{nf.app="demo", statistic="max"}`:                         9,
		`age{nf.app="demo", statistic="gauge"}`:                            20,
		`bytes{nf.app="demo", statistic="count"}`:                          6,
		`lat{nf.app="demo", statistic="count"}`:                            0.2,
		`lat{nf.app="demo", statistic="totalTime"}`:                        0.2,
		`lat{nf.app="demo", statistic="totalOfSquares"}`:                   0.25,
		`lat{nf.app="demo", statistic="max"}`:                              1.5,
		`size{nf.app="demo", statistic="totalAmount"}`:                     4,
		`size{nf.app="demo", statistic="max"}`:                             30,
		`plat{nf.app="demo", percentile="T0056", statistic="percentile"}`:  0.1, // 1 ms: bucket 86, up to 2^20 ns
		`psize{nf.app="demo", percentile="D0005", statistic="percentile"}`: 0.1,
		`multi{a="1", b="2", nf.app="demo", statistic="count"}`:            0.2,
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || math.Abs(g-v) > 1e-12 {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	// Next step: counters and timers without updates publish nothing,
	// gauges go on until their TTL, age gauges keep ageing.
	got = measured(r.Measure(t0.Add(2*step), step))
	if _, ok := got[`req{nf.app="demo", statistic="count", status="2xx"}`]; ok {
		t.Error("an idle counter was published")
	}
	if got[`queue{nf.app="demo", statistic="gauge"}`] != 5 || got[`age{nf.app="demo", statistic="gauge"}`] != 30 {
		t.Errorf("second step: %v", got)
	}
	if _, ok := got[`short{nf.app="demo", statistic="gauge"}`]; ok {
		t.Error("a gauge outlived its 15 s TTL")
	}
	// After the meter TTL idle meters are dropped; the age gauge stays.
	r.Measure(t0.Add(20*time.Minute), step)
	if n := r.Meters(); n != 1 {
		t.Errorf("%d meters left after 20 idle minutes, want the age gauge alone", n)
	}
}

// TestPercentileTagValue checks bucket names as Spectator writes them:
// the type's letter and the index in four upper-case hex digits.
func TestPercentileTagValue(t *testing.T) {
	for _, c := range []struct {
		prefix byte
		i      int
		want   string
	}{{'T', 0, "T0000"}, {'T', 86, "T0056"}, {'D', 5, "D0005"}, {'D', 275, "D0113"}} {
		if got := percentileTagValue(c.prefix, c.i); got != c.want {
			t.Errorf("percentileTagValue(%c, %d) = %q, want %q", c.prefix, c.i, got, c.want)
		}
	}
}

func BenchmarkHandleDatagram(b *testing.B) {
	r := &Registry{}
	var dg []byte
	for i := 0; i < 32; i++ {
		dg = append(dg, "c:server.requests,status=2xx,host=h"...)
		dg = append(dg, byte('a'+i%8))
		dg = append(dg, ":1\n"...)
	}
	buf := make([]byte, len(dg))
	b.SetBytes(32)
	b.ReportAllocs()
	for b.Loop() {
		copy(buf, dg)
		r.HandleDatagram(buf, timeZero)
	}
}

// BenchmarkHandlePercentileDatagram is one datagram of 32 percentile
// timer and distribution summary lines, each counted in its bucket.
func BenchmarkHandlePercentileDatagram(b *testing.B) {
	r := &Registry{}
	var dg []byte
	for i := 0; i < 32; i++ {
		if i%2 == 0 {
			dg = append(dg, "T:server.latency,host=h"...)
		} else {
			dg = append(dg, "D:server.size,host=h"...)
		}
		dg = append(dg, byte('a'+i%8))
		dg = append(dg, ':')
		dg = strconv.AppendFloat(dg, math.Pow(3.7, float64(i%24))*1e-6, 'g', -1, 64)
		dg = append(dg, '\n')
	}
	buf := make([]byte, len(dg))
	b.SetBytes(32)
	b.ReportAllocs()
	for b.Loop() {
		copy(buf, dg)
		r.HandleDatagram(buf, timeZero)
	}
}
