package ingest

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/telemetry/prom"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

func TestDaemonSockets(t *testing.T) {
	db := openDB(t)
	d := &Daemon{Registry: &Registry{}, Storage: prom.DBAppendable{DB: db}, Step: time.Second}
	addr, err := d.ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "spectatord.unix")
	if err := d.ListenUnix(sock, DefaultUnixMode); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o660 {
		t.Fatalf("socket mode: %v, %v; want 0660", fi.Mode(), err)
	}
	defer d.Close()
	udp, err := net.Dial("udp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	unix, err := net.Dial("unixgram", sock)
	if err != nil {
		t.Fatal(err)
	}
	udp.Write([]byte("c:udp.requests:1\nc:udp.requests:2"))
	unix.Write([]byte("c:unix.requests,k=v:5\nbogus line\n"))
	deadline := time.Now().Add(10 * time.Second)
	for d.Registry.Lines.Load() < 3 || d.Registry.Errors.Load() < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("lines %d, errors %d", d.Registry.Lines.Load(), d.Registry.Errors.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	end := time.Now().Truncate(time.Second).Add(time.Second)
	d.Publish(end, time.Second)
	q, _ := db.Querier(end.UnixMilli(), end.UnixMilli())
	defer q.Close()
	set := q.Select(nil, tsdb.MustMatcher(tsdb.MatchEqual, "statistic", "count"))
	var got []string
	for set.Next() {
		it := set.At().Iterator()
		it.Next()
		_, v := it.At()
		got = append(got, set.At().Labels().String()+"="+string(prom.AppendFloat(nil, v)))
	}
	if strings.Join(got, " ") != `udp.requests{statistic="count"}=3 unix.requests{k="v", statistic="count"}=5` {
		t.Fatalf("stored %v", got)
	}
}

// TestDaemonUnixSocketMode is issue #15 item 16: the socket gets the mode
// asked for, not 0666.
func TestDaemonUnixSocketMode(t *testing.T) {
	d := &Daemon{Registry: &Registry{}, Storage: prom.DBAppendable{DB: openDB(t)}, Step: time.Second}
	defer d.Close()
	sock := filepath.Join(t.TempDir(), "spectatord.unix")
	if err := d.ListenUnix(sock, 0o600); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode: %v, %v; want 0600", fi.Mode(), err)
	}
	if err := d.ListenUnix(filepath.Join(t.TempDir(), "other.unix"), os.ModeSetuid|0o660); err == nil {
		t.Fatal("a mode with setuid was accepted")
	}
}
