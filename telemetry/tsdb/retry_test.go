package tsdb

import (
	"errors"
	"fmt"
	"math"
	"testing"
)

// TestRetriedBatch sends a batch again, as a remote-write client retries
// after a timeout, while newer samples keep arriving: each repeated sample
// is an ignored duplicate, one with another value is refused alone, a new
// timestamp between stored ones is taken as out of order, and nothing is
// stored twice. The series span closed chunks (cut at each hour) and the
// open one; midway through the retry another appender grows the open
// chunk of the first series, and makes the second's open chunk close and
// a long new one start in the same buffer.
func TestRetriedBatch(t *testing.T) {
	o := testOptions(nil)
	o.OutOfOrderWindow = 6 * 3_600_000 * 1e6 // 6h in ns
	db := openTest(t, t.TempDir(), o)
	defer db.Close()
	a1, a2 := FromStrings(MetricName, "retried", "i", "1"), FromStrings(MetricName, "retried", "i", "2")
	value := func(ls Labels, k int) float64 { // irregular, so that chunks are dense
		if ls[1].Value == "1" {
			return float64(k * 7919 % 1000)
		}
		return float64(k*31337%10007) / 100
	}
	const step, n = 15_000, 700 // the third hour's chunk holds samples 480–699
	app := db.Appender()
	for k := range n {
		for _, ls := range []Labels{a1, a2} {
			if _, err := app.Append(0, ls, int64(k)*step, value(ls, k)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	extra := map[string][]sample{
		a1.String(): {{n * step, 1}, {(n + 1) * step, 2}}, // same chunk
	}
	for k := 720; k < 960; k++ { // the next hour: a new chunk in the same buffer
		extra[a2.String()] = append(extra[a2.String()], sample{int64(k) * step, float64(k * k % 1013)})
	}
	for _, ls := range []Labels{a1, a2} {
		app := db.Appender()
		var ref SeriesRef
		for k := range n {
			if k == 600 {
				more := db.Appender()
				for _, x := range extra[ls.String()] {
					if _, err := more.Append(0, ls, x.t, x.v); err != nil {
						t.Fatal(err)
					}
				}
				if err := more.Commit(); err != nil {
					t.Fatal(err)
				}
			}
			v := value(ls, k)
			if k == 500 || k == 650 {
				v++ // changed since: refused alone
			}
			r, err := app.Append(ref, ls, int64(k)*step, v)
			switch {
			case (k == 500 || k == 650) && !errors.Is(err, ErrDuplicateSample):
				t.Fatalf("%s: sample %d with another value: %v, want ErrDuplicateSample", ls, k, err)
			case k != 500 && k != 650 && err != nil:
				t.Fatalf("%s: repeated sample %d: %v", ls, k, err)
			case err == nil:
				ref = r
			}
			if k%100 == 7 { // a new timestamp between two stored ones
				if _, err := app.Append(ref, ls, int64(k)*step+1, -1); err != nil {
					t.Fatalf("%s: out-of-order sample after %d: %v", ls, k, err)
				}
			}
		}
		first := extra[ls.String()][0]
		if _, err := app.Append(ref, ls, first.t, first.v+1); !errors.Is(err, ErrDuplicateSample) {
			t.Fatalf("%s: another value for a sample appended since the retry began: %v, want ErrDuplicateSample", ls, err)
		}
		if _, err := app.Append(ref, ls, first.t, first.v); err != nil {
			t.Fatalf("%s: repeated sample appended since the retry began: %v", ls, err)
		}
		if err := app.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	got := query(t, db, 0, math.MaxInt64, nil)
	for _, ls := range []Labels{a1, a2} {
		var want []sample
		for k := range n {
			want = append(want, sample{int64(k) * step, value(ls, k)})
			if k%100 == 7 {
				want = append(want, sample{int64(k)*step + 1, -1})
			}
		}
		want = append(want, extra[ls.String()]...)
		if !sameSamples(got[ls.String()], want) {
			t.Fatalf("%s: %d samples, want %d", ls, len(got[ls.String()]), len(want))
		}
	}
}

// BenchmarkRetriedBatch measures a retried backfill request: 50 series ×
// 40 samples already stored, in a head holding 480 samples of each; one
// op is one repeated sample.
func BenchmarkRetriedBatch(b *testing.B) {
	o := benchOptions()
	o.OutOfOrderWindow = 3 * 3_600_000 * 1e6
	db := openTest(b, b.TempDir(), o)
	defer db.Close()
	const series, stored, window = 50, 480, 40
	labels := make([]Labels, series)
	a := db.Appender()
	for i := range labels {
		labels[i] = FromStrings(MetricName, "retried", "i", fmt.Sprint(i))
		for k := range stored {
			if _, err := a.Append(0, labels[i], int64(k)*15_000, float64(k)); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := a.Commit(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	a = db.Appender()
	var ref SeriesRef
	for b.Loop() {
		s, k := i/window%series, 200+i%window
		if i%window == 0 {
			ref = 0
		}
		r, err := a.Append(ref, labels[s], int64(k)*15_000, float64(k))
		if err != nil {
			b.Fatal(err)
		}
		ref = r
		if i++; i%(series*window) == 0 {
			a.Rollback()
			a = db.Appender()
		}
	}
	a.Rollback()
}
