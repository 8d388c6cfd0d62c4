package ingest

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"

	"github.com/gaffer-sre/gaffer/telemetry/prom"
)

// SocketBuffer is the receive buffer asked for on the daemon's sockets
// (spectatord uses 16 MiB); as root it is forced past net.core.rmem_max.
const SocketBuffer = 16 << 20

// Daemon is a spectatord-compatible daemon: it reads the line protocol
// from a UDP socket and a unix datagram socket into a Registry and
// writes the Registry's measurements to the store every Step, at
// multiples of Step.
type Daemon struct {
	Registry *Registry
	Storage  prom.Appendable
	// Step is the publishing interval (spectatord's and Atlas's: 1 minute
	// by default here).
	Step time.Duration
	Log  *slog.Logger
	// UDPReaders is how many goroutines read the UDP socket (default 2).
	UDPReaders int

	mu      sync.Mutex
	conns   []net.PacketConn
	paths   []string
	wg      sync.WaitGroup
	stop    chan struct{}
	started bool
}

func (d *Daemon) log() *slog.Logger {
	if d.Log != nil {
		return d.Log
	}
	return slog.Default()
}

// ListenUDP starts reading the UDP address (e.g. 127.0.0.1:1234). It
// returns the bound address.
func (d *Daemon) ListenUDP(addr string) (net.Addr, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("spectatord udp address %q: %w", addr, err)
	}
	c, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, fmt.Errorf("spectatord: listen on udp %s: %w", addr, err)
	}
	setReadBuffer(c)
	readers := d.UDPReaders
	if readers <= 0 {
		readers = 2
	}
	d.mu.Lock()
	d.conns = append(d.conns, c)
	d.mu.Unlock()
	for i := 0; i < readers; i++ {
		d.wg.Add(1)
		go d.readBatches(ipv4.NewPacketConn(c))
	}
	return c.LocalAddr(), nil
}

// DefaultUnixMode is the unix socket's mode unless set otherwise: the
// owner and its group may send metrics, other users may not.
const DefaultUnixMode os.FileMode = 0o660

// ListenUnix starts reading a unix datagram socket at path, replacing a
// stale socket file, and gives the socket the permission bits mode
// (DefaultUnixMode unless an operator chose otherwise): whoever may write
// to the socket may send metrics, unauthenticated.
func (d *Daemon) ListenUnix(path string, mode os.FileMode) error {
	if mode&^os.ModePerm != 0 {
		return fmt.Errorf("spectatord: unix socket mode %#o has bits beyond the permission bits", mode)
	}
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
		os.Remove(path)
	}
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("spectatord: listen on unix socket %s: %w", path, err)
	}
	if err := os.Chmod(path, mode); err != nil {
		c.Close()
		return fmt.Errorf("spectatord: set mode %#o on unix socket %s: %w", mode, path, err)
	}
	setReadBuffer(c)
	d.mu.Lock()
	d.paths = append(d.paths, path)
	d.mu.Unlock()
	d.serve(c, 1)
	return nil
}

type rawConner interface {
	SyscallConn() (syscall.RawConn, error)
	SetReadBuffer(int) error
}

// setReadBuffer asks for SocketBuffer bytes, with SO_RCVBUFFORCE when the
// process may (root), else as much as the system allows.
func setReadBuffer(c rawConner) {
	forced := false
	if rc, err := c.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) {
			forced = setRcvBufForce(fd, SocketBuffer) == nil
		})
	}
	if !forced {
		c.SetReadBuffer(SocketBuffer)
	}
}

// udpBatch is how many datagrams one recvmmsg(2) call may return.
const udpBatch = 32

// readBatches reads datagrams udpBatch at a time (recvmmsg on Linux), so
// that small datagrams cost a fraction of a system call each.
func (d *Daemon) readBatches(pc *ipv4.PacketConn) {
	defer d.wg.Done()
	msgs := make([]ipv4.Message, udpBatch)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{make([]byte, 64<<10)}
	}
	bufs := make([][]byte, 0, udpBatch)
	for {
		n, err := pc.ReadBatch(msgs, 0)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			d.log().Warn("spectatord: read", "error", err)
			continue
		}
		bufs = bufs[:0]
		for _, m := range msgs[:n] {
			bufs = append(bufs, m.Buffers[0][:m.N])
		}
		d.Registry.HandleDatagrams(bufs, time.Now())
	}
}

func (d *Daemon) serve(c net.PacketConn, readers int) {
	d.mu.Lock()
	d.conns = append(d.conns, c)
	d.mu.Unlock()
	for i := 0; i < readers; i++ {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			buf := make([]byte, 64<<10)
			for {
				n, _, err := c.ReadFrom(buf)
				if err != nil {
					if errors.Is(err, net.ErrClosed) {
						return
					}
					d.log().Warn("spectatord: read", "error", err)
					continue
				}
				d.Registry.HandleDatagram(buf[:n], time.Now())
			}
		}()
	}
}

// Start begins publishing every Step.
func (d *Daemon) Start() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.started {
		return
	}
	d.started = true
	d.stop = make(chan struct{})
	step := d.Step
	if step <= 0 {
		step = time.Minute
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		for {
			now := time.Now()
			next := now.Truncate(step).Add(step)
			select {
			case <-d.stop:
				return
			case <-time.After(next.Sub(now)):
			}
			d.Publish(next, step)
		}
	}()
}

// Publish writes the measurements of the step ending at t.
func (d *Daemon) Publish(t time.Time, step time.Duration) {
	series := d.Registry.Measure(t, step)
	if len(series) == 0 {
		return
	}
	res, err := prom.Store(d.Storage, series)
	if err != nil {
		d.log().Error("spectatord: store measurements", "series", len(series), "error", err)
		return
	}
	if res.Refused > 0 {
		d.log().Warn("spectatord: measurements refused", "error", res.Err())
	}
}

// Close stops reading and publishing and removes the unix socket files.
func (d *Daemon) Close() error {
	d.mu.Lock()
	if d.started {
		close(d.stop)
		d.started = false
	}
	for _, c := range d.conns {
		c.Close()
	}
	d.conns = nil
	paths := d.paths
	d.paths = nil
	d.mu.Unlock()
	d.wg.Wait()
	for _, p := range paths {
		os.Remove(p)
	}
	return nil
}
