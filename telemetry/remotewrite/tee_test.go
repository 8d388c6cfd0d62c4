package remotewrite

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/clocktest"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/telemetry/prom"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

type recordingSink struct{ got []prom.TimeSeries }

func (r *recordingSink) Forward(series []prom.TimeSeries) {
	for _, ts := range series {
		r.got = append(r.got, prom.TimeSeries{Labels: ts.Labels.Copy(), Samples: append([]prom.Sample(nil), ts.Samples...)})
	}
}

// TestTeeForwardsOnlyCommittedSamples: samples the store refuses and
// batches rolled back never reach the sink; the rest arrive grouped by
// series.
func TestTeeForwardsOnlyCommittedSamples(t *testing.T) {
	opts := tsdb.DefaultOptions()
	opts.OutOfOrderWindow = 0
	db, err := tsdb.Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sink := &recordingSink{}
	tee := Tee{Storage: prom.DBAppendable{DB: db}, Sink: sink}
	base := clocktest.Base.UnixMilli()
	series := append(series("a", 0, 3), series("b", 0, 2)...)
	for i := range series {
		for j := range series[i].Samples {
			series[i].Samples[j].Timestamp += base
		}
	}
	if res, err := prom.Store(tee, series); err != nil || res.Stored != 5 {
		t.Fatalf("store: %+v, %v", res, err)
	}
	// The same series again, one sample newer and one out of order.
	late := []prom.TimeSeries{{Labels: series[0].Labels, Samples: []prom.Sample{{Timestamp: base + 10_000, Value: 1}, {Timestamp: base + 500, Value: 2}}}}
	if res, _ := prom.Store(tee, late); res.Stored != 1 || res.Refused != 1 {
		t.Fatalf("store late: %+v", res)
	}
	app := tee.Appender()
	app.Append(0, series[1].Labels, base+20_000, 9)
	app.Rollback()

	if len(sink.got) != 3 || len(sink.got[0].Samples) != 3 || len(sink.got[1].Samples) != 2 ||
		len(sink.got[2].Samples) != 1 || sink.got[2].Samples[0].Timestamp != base+10_000 {
		t.Fatalf("forwarded %+v; want a's 3 samples, b's 2, then a's newer one (not the refused or rolled-back ones)", sink.got)
	}
}

// TestQueueBoundUnderConcurrentSending: appending past the bound while a
// reader sends and acknowledges loses no count: every sample appended is
// sent or counted as dropped, and nothing is pending at the end.
func TestQueueBoundUnderConcurrentSending(t *testing.T) {
	q, err := OpenQueue(t.TempDir(), 1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var sent int64
	var wg sync.WaitGroup
	wg.Add(1)
	begin := make(chan struct{}) // the reader starts once the queue drops
	go func() {
		defer wg.Done()
		<-begin
		for {
			b, err := q.Next(ctx, 500)
			if err != nil {
				return
			}
			sent += int64(b.Samples)
			q.Ack(b)
		}
	}()
	appended := int64(0)
	started := false
	for i := 0; !started || i < 6000; i++ {
		if !started && q.Stats().Dropped > 0 {
			close(begin)
			started = true
		}
		if i > 100_000 {
			t.Fatal("the queue never dropped anything")
		}
		var batch []prom.TimeSeries
		for j := 0; j < 20; j++ {
			batch = append(batch, series("m"+string(rune('a'+j))+string(rune('a'+i%26))+string(rune('a'+i/26%26)), i, 2)...)
		}
		if err := q.Append(batch); err != nil {
			t.Fatal(err)
		}
		appended += 40
	}
	platformtest.WaitFor(20*time.Second, func() bool { return q.Stats().Pending == 0 })
	cancel()
	wg.Wait()
	st := q.Stats()
	if st.Pending != 0 || st.Dropped == 0 || sent+st.Dropped != appended {
		t.Fatalf("appended %d: sent %d, dropped %d, pending %d; want drops, and every sample sent or dropped", appended, sent, st.Dropped, st.Pending)
	}
	t.Logf("appended %d: sent %d, dropped %d", appended, sent, st.Dropped)
}
