package spectator

import (
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"
)

// Writer sends protocol lines. WriteLine must not keep line.
type Writer interface {
	WriteLine(line []byte)
	Close() error
}

// NewWriter opens a writer by spectatord's location syntax: "udp" (the
// default 127.0.0.1:1234), "udp://host:port", "unix" (/run/spectatord/
// spectatord.unix), "unix:///path", "file:///path", "stdout", "stderr",
// "memory" or "none".
func NewWriter(location string) (Writer, error) {
	switch {
	case location == "" || location == "udp":
		return NewUDPWriter("127.0.0.1:1234")
	case location == "unix":
		return NewUnixWriter("/run/spectatord/spectatord.unix")
	case location == "memory":
		return &MemoryWriter{}, nil
	case location == "none":
		return noopWriter{}, nil
	case location == "stdout":
		return NewStreamWriter(os.Stdout), nil
	case location == "stderr":
		return NewStreamWriter(os.Stderr), nil
	case strings.HasPrefix(location, "udp://"):
		return NewUDPWriter(strings.TrimPrefix(location, "udp://"))
	case strings.HasPrefix(location, "unix://"):
		return NewUnixWriter(strings.TrimPrefix(location, "unix://"))
	case strings.HasPrefix(location, "file://"):
		f, err := os.OpenFile(strings.TrimPrefix(location, "file://"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("spectator: open %s: %w", location, err)
		}
		return &streamWriter{w: f, c: f}, nil
	}
	return nil, fmt.Errorf("spectator: unknown writer location %q", location)
}

type noopWriter struct{}

func (noopWriter) WriteLine([]byte) {}
func (noopWriter) Close() error     { return nil }

// MemoryWriter keeps lines, for tests.
type MemoryWriter struct {
	mu    sync.Mutex
	lines []string
}

// WriteLine implements Writer.
func (m *MemoryWriter) WriteLine(line []byte) {
	m.mu.Lock()
	m.lines = append(m.lines, string(line))
	m.mu.Unlock()
}

// Lines returns the lines written so far.
func (m *MemoryWriter) Lines() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.lines...)
}

// Reset forgets the lines.
func (m *MemoryWriter) Reset() { m.mu.Lock(); m.lines = nil; m.mu.Unlock() }

// Close implements Writer.
func (m *MemoryWriter) Close() error { return nil }

// streamWriter writes newline-terminated lines to a stream.
type streamWriter struct {
	mu  sync.Mutex
	w   io.Writer
	c   io.Closer
	buf []byte
}

// NewStreamWriter writes lines to w (stdout, a file).
func NewStreamWriter(w io.Writer) Writer { return &streamWriter{w: w} }

func (s *streamWriter) WriteLine(line []byte) {
	s.mu.Lock()
	s.buf = append(append(s.buf[:0], line...), '\n')
	s.w.Write(s.buf)
	s.mu.Unlock()
}

func (s *streamWriter) Close() error {
	if s.c != nil {
		return s.c.Close()
	}
	return nil
}

// connWriter sends each line as one datagram.
type connWriter struct{ c net.Conn }

// NewUDPWriter sends lines to a spectatord UDP address.
func NewUDPWriter(addr string) (Writer, error) {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("spectator: dial udp %s: %w", addr, err)
	}
	return connWriter{c}, nil
}

// NewUnixWriter sends lines to a spectatord unix datagram socket.
func NewUnixWriter(path string) (Writer, error) {
	c, err := net.Dial("unixgram", path)
	if err != nil {
		return nil, fmt.Errorf("spectator: dial unix %s: %w", path, err)
	}
	return connWriter{c}, nil
}

func (w connWriter) WriteLine(line []byte) { w.c.Write(line) }
func (w connWriter) Close() error          { return w.c.Close() }

// BufferedWriter batches lines, newline-separated, up to Size bytes per
// write to the underlying writer, flushing at least every Interval.
type BufferedWriter struct {
	next     Writer
	size     int
	mu       sync.Mutex
	buf      []byte
	stop     chan struct{}
	done     chan struct{}
	closeOne sync.Once
}

// NewBufferedWriter buffers lines for next: size bytes (60 KiB fits a UDP
// datagram) and interval (a second by default).
func NewBufferedWriter(next Writer, size int, interval time.Duration) *BufferedWriter {
	if size <= 0 {
		size = 60 << 10
	}
	if interval <= 0 {
		interval = time.Second
	}
	b := &BufferedWriter{next: next, size: size, buf: make([]byte, 0, size), stop: make(chan struct{}), done: make(chan struct{})}
	go b.loop(interval)
	return b
}

func (b *BufferedWriter) loop(interval time.Duration) {
	defer close(b.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			b.Flush()
		case <-b.stop:
			b.Flush()
			return
		}
	}
}

// WriteLine implements Writer.
func (b *BufferedWriter) WriteLine(line []byte) {
	b.mu.Lock()
	if len(b.buf)+len(line)+1 > b.size && len(b.buf) > 0 {
		b.flushLocked()
	}
	if len(b.buf) > 0 {
		b.buf = append(b.buf, '\n')
	}
	b.buf = append(b.buf, line...)
	b.mu.Unlock()
}

func (b *BufferedWriter) flushLocked() {
	if len(b.buf) == 0 {
		return
	}
	b.next.WriteLine(b.buf)
	b.buf = b.buf[:0]
}

// Flush sends buffered lines now.
func (b *BufferedWriter) Flush() {
	b.mu.Lock()
	b.flushLocked()
	b.mu.Unlock()
}

// Close flushes and closes the underlying writer.
func (b *BufferedWriter) Close() error {
	b.closeOne.Do(func() { close(b.stop) })
	<-b.done
	return b.next.Close()
}
