package metrics_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/telemetry/prom"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// TestSIGKILLKeepsAcknowledgedSamples kills `gaffer serve` with SIGKILL
// while two clients remote-write, restarts it on the same data directory,
// and checks every acknowledged sample is there (default fsync policy:
// --tsdb-wal-sync=write).
func TestSIGKILLKeepsAcknowledgedSamples(t *testing.T) {
	if testing.Short() {
		t.Skip("process test skipped in -short mode")
	}
	bin := platformtest.BuildGaffer(t)
	dir := t.TempDir()
	p := platformtest.StartServe(t, bin, dir)
	tok, err := os.ReadFile(filepath.Join(dir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	client := &prom.Client{URL: p.URL, Token: strings.TrimSpace(string(tok))}
	base := time.Now().Add(-30 * time.Minute).Truncate(time.Second)
	const writers, seriesPerBatch = 2, 200
	var acked [writers]atomic.Int64 // batches acknowledged by each writer
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				batch := make([]prom.TimeSeries, seriesPerBatch)
				for i := range batch {
					batch[i] = prom.TimeSeries{Labels: tsdb.FromStrings("__name__", "sigkill_test", "writer", fmt.Sprint(w), "series", fmt.Sprint(i)),
						Samples: []prom.Sample{{Value: float64(k), Timestamp: base.Add(time.Duration(k) * 100 * time.Millisecond).UnixMilli()}}}
				}
				if err := client.Write(context.Background(), batch); err != nil {
					return // the server died
				}
				acked[w].Store(int64(k + 1))
			}
		}(w)
	}
	platformtest.Eventually(t, "some writes to be acknowledged", func() bool { return acked[0].Load() > 20 && acked[1].Load() > 20 })
	// Kill while both writers are still writing: wait for each to be
	// acknowledged again after the first check.
	a0, a1 := acked[0].Load(), acked[1].Load()
	platformtest.Eventually(t, "more writes to be acknowledged", func() bool { return acked[0].Load() > a0+5 && acked[1].Load() > a1+5 })
	if err := p.Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	p.Cmd.Wait()
	close(stop)
	wg.Wait()

	p2 := platformtest.StartServe(t, bin, dir)
	client.URL = p2.URL
	for w := 0; w < writers; w++ {
		res, err := client.Query(context.Background(), fmt.Sprintf(`min(count_over_time(sigkill_test{writer="%d"}[1h]))`, w), time.Now())
		if err != nil || len(res.Series) != 1 {
			t.Fatalf("writer %d: %+v %v", w, res, err)
		}
		if got := int64(res.Series[0].Points[0].V); got < acked[w].Load() {
			t.Errorf("writer %d: a series has %d samples after SIGKILL, %d were acknowledged", w, got, acked[w].Load())
		} else {
			t.Logf("writer %d: %d batches acknowledged, at least %d stored per series", w, acked[w].Load(), got)
		}
	}
}

// TestDiskFullAnswers503 puts the store on a small tmpfs, fills it, and
// checks that remote write and Atlas publish answer 503 (nothing stored,
// retry later), that stored data stays readable, and that writes succeed
// once space returns. It needs root to mount the tmpfs.
func TestDiskFullAnswers503(t *testing.T) {
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("disk-full test skipped: cannot mount a tmpfs (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	srv := platformtest.Start(t, platformtest.Options{Args: []string{"--tsdb-path", filepath.Join(mnt, "tsdb")}})
	tok := srv.Token("metrics:write")
	now := time.Now()
	// Batches of 2,000 new series, more than the free end of a tmpfs page.
	sample := func(name string) []prom.TimeSeries {
		var out []prom.TimeSeries
		for i := 0; i < 2000; i++ {
			out = append(out, prom.TimeSeries{Labels: tsdb.FromStrings("__name__", name, "i", fmt.Sprint(i)),
				Samples: []prom.Sample{{Value: 1, Timestamp: now.UnixMilli()}}})
		}
		return out
	}
	if r := remoteWrite(t, srv, tok, sample("before_full")); r.Status != 204 {
		t.Fatalf("write: %d %s", r.Status, r.Body)
	}
	filler := filepath.Join(mnt, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			break
		}
	}
	for len(chunk) > 1 { // fill the last bytes too
		chunk = chunk[:len(chunk)/2]
		for {
			if _, err := f.Write(chunk); err != nil {
				break
			}
		}
	}
	f.Close()
	r := remoteWrite(t, srv, tok, sample("while_full"))
	if r.Status != 503 || r.Header.Get("Retry-After") == "" || !strings.Contains(string(r.Body), "storage full") {
		t.Fatalf("remote write on a full disk: %d %v %s", r.Status, r.Header, r.Body)
	}
	var dps []string
	for i := 0; i < 2000; i++ {
		dps = append(dps, fmt.Sprintf(`{"tags":{"name":"atlas.full","ii":"%d"},"timestamp":%d,"value":1}`, i, now.UnixMilli()))
	}
	r = srv.DoWith("POST", "/api/v1/publish", tok, "application/json", `{"metrics":[`+strings.Join(dps, ",")+`]}`)
	if r.Status != 503 {
		t.Fatalf("publish on a full disk: %d %s", r.Status, r.Body)
	}
	reader := srv.Token("metrics:read")
	if p := decodeProm(t, srv.Do("GET", "/api/v1/series?match[]={__name__=~\".%2B\"}", reader, nil)); !strings.Contains(string(p.Data), "before_full") || strings.Contains(string(p.Data), "while_full") {
		t.Fatalf("series while full: %s", p.Data)
	}
	os.Remove(filler)
	if r := remoteWrite(t, srv, tok, sample("after_full")); r.Status != 204 {
		t.Fatalf("write after space returned: %d %s", r.Status, r.Body)
	}
}
