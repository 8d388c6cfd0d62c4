// Package bus is Gaffer's messaging: an embedded nats-server with JetStream
// (file storage in the data directory) by default, or an external NATS
// server or cluster by URL. Systems talk to each other through CloudEvents
// published on subjects gaffer.<system>.<type>, kept in one durable stream.
package bus

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// StreamName is the JetStream stream holding every event.
const StreamName = "GAFFER_EVENTS"

// SubjectPrefix starts every event subject.
const SubjectPrefix = "gaffer."

// Options configure the bus.
type Options struct {
	// URL of an external NATS server or cluster (comma-separated URLs).
	// Empty runs an embedded server.
	URL string
	// CredsFile, for an external server, is a NATS credentials file.
	CredsFile string
	// DataDir holds the embedded server's JetStream files and its
	// connection details for other local processes.
	DataDir string
	// Listen is the embedded server's host:port for other processes
	// (gaffer worker, agents). "" keeps it in-process only; port 0 picks
	// a free port.
	Listen string
	// ListenAnyPort, when the operator did not choose Listen, lets the
	// server listen on a free port of Listen's host at once when Listen's
	// port is taken (a second gaffer serve on one machine), instead of
	// waiting for it. Local workers find the port in the data directory.
	ListenAnyPort bool
	// Retention of the event stream.
	MaxAge   time.Duration
	MaxBytes int64
	// Replicas of the event stream on an external cluster (1 or 3).
	Replicas int
	// TLS, when set, makes the embedded server require TLS on its
	// listener with this configuration (its certificate).
	TLS *tls.Config
	// ClientTLS, when set, verifies the server of a URL connection
	// (a worker's, an external cluster's) with these roots.
	ClientTLS *tls.Config
	Log       *slog.Logger
}

// Bus is a connection to NATS with JetStream.
type Bus struct {
	// Conn is the core NATS connection.
	Conn *nats.Conn
	// JS is the JetStream context.
	JS jetstream.JetStream
	// Stream is the event stream.
	Stream jetstream.Stream
	// ClientURL is where other processes reach this bus.
	ClientURL string

	server *server.Server
	auth   *clientAuth
	log    *slog.Logger
}

// Open starts or connects to NATS and makes sure the event stream exists
// with the configured retention.
func Open(ctx context.Context, o Options) (*Bus, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	b := &Bus{log: o.Log}
	var err error
	if o.URL == "" {
		err = b.startEmbedded(o)
	} else {
		err = b.connectExternal(o)
	}
	if err != nil {
		b.Close()
		return nil, err
	}
	if b.JS, err = jetstream.New(b.Conn); err != nil {
		b.Close()
		return nil, fmt.Errorf("bus: jetstream: %w", err)
	}
	if b.Stream, err = b.ensureStream(ctx, o); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

func (b *Bus) connectExternal(o Options) error {
	opts := []nats.Option{nats.Name("gaffer"), nats.MaxReconnects(-1), nats.ReconnectWait(250 * time.Millisecond)}
	if o.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(o.CredsFile))
	}
	if o.ClientTLS != nil {
		opts = append(opts, nats.Secure(o.ClientTLS))
	}
	nc, err := nats.Connect(o.URL, opts...)
	if err != nil {
		return fmt.Errorf("bus: connect to %s: %w", redactURLs(o.URL), err)
	}
	b.Conn, b.ClientURL = nc, o.URL
	return nil
}

// redactURLs hides the passwords of comma-separated NATS URLs, for errors.
func redactURLs(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		if u, err := url.Parse(strings.TrimSpace(p)); err == nil && u.User != nil {
			parts[i] = u.Redacted()
		}
	}
	return strings.Join(parts, ",")
}

// Embedded server connection details, written for local processes.
const (
	urlFile    = "nats.url"
	secretFile = "nats.secret"
)

func (b *Bus) startEmbedded(o Options) error {
	if o.DataDir == "" {
		return errors.New("bus: embedded NATS needs a data directory")
	}
	jsDir := filepath.Join(o.DataDir, "jetstream")
	if err := os.MkdirAll(jsDir, 0o700); err != nil {
		return fmt.Errorf("bus: create %s: %w", jsDir, err)
	}
	secret, err := loadOrCreateSecret(filepath.Join(o.DataDir, secretFile))
	if err != nil {
		return err
	}
	opts := &server.Options{
		ServerName:         "gaffer-embedded",
		JetStream:          true,
		StoreDir:           jsDir,
		NoSigs:             true,
		NoLog:              true,
		MaxPayload:         8 << 20,
		JetStreamMaxMemory: 256 << 20,
	}
	if o.Listen == "" {
		opts.DontListen = true
	} else {
		host, portStr, err := net.SplitHostPort(o.Listen)
		if err != nil {
			return fmt.Errorf("bus: nats listen address %q: %w", o.Listen, err)
		}
		port, err := strconv.Atoi(portStr)
		if err != nil {
			return fmt.Errorf("bus: nats listen port %q: %w", portStr, err)
		}
		if port == 0 {
			port = server.RANDOM_PORT
		}
		opts.Host, opts.Port = host, port
	}
	scheme := "nats"
	if o.TLS != nil && !opts.DontListen {
		// Clients must verify the certificate; the in-process connection
		// below does not cross a network and is not encrypted.
		opts.TLS, opts.TLSConfig, opts.TLSTimeout = true, o.TLS, 5
		scheme = "tls"
	}
	b.auth = newClientAuth("gaffer", secret)
	opts.CustomClientAuthentication = b.auth
	st := embeddedStartup
	st.AnyPort = o.ListenAnyPort
	srv, err := startServer(opts, b.log, st)
	if err != nil {
		return err
	}
	b.server = srv
	nc, err := nats.Connect("", nats.InProcessServer(srv), nats.UserInfo("gaffer", secret), nats.Name("gaffer"))
	if err != nil {
		return fmt.Errorf("bus: connect to embedded nats: %w", err)
	}
	b.Conn = nc
	if !opts.DontListen {
		u := fmt.Sprintf("%s://gaffer:%s@%s", scheme, secret, srv.Addr().String())
		b.ClientURL = u
		if err := os.WriteFile(filepath.Join(o.DataDir, urlFile), []byte(u+"\n"), 0o600); err != nil {
			return fmt.Errorf("bus: write %s: %w", urlFile, err)
		}
	}
	return nil
}

// LocalURL returns the address (with credentials) of the embedded server a
// `gaffer serve` with this data directory runs, for `gaffer worker`.
func LocalURL(dataDir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, urlFile))
	if err != nil {
		return "", fmt.Errorf("bus: no embedded NATS address in %s (is `gaffer serve` running with this --data-dir and a --nats-listen address?): %w", dataDir, err)
	}
	return strings.TrimSpace(string(b)), nil
}

func loadOrCreateSecret(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("bus: generate nats secret: %w", err)
	}
	s := hex.EncodeToString(raw[:])
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("bus: write %s: %w", path, err)
	}
	return s, nil
}

func (b *Bus) ensureStream(ctx context.Context, o Options) (jetstream.Stream, error) {
	cfg := jetstream.StreamConfig{
		Name:        StreamName,
		Description: "Every Gaffer event (CloudEvents 1.0)",
		Subjects:    []string{SubjectPrefix + ">"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      o.MaxAge,
		MaxBytes:    o.MaxBytes,
		Duplicates:  2 * time.Minute,
		Replicas:    max(o.Replicas, 1),
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = -1
	}
	s, err := b.JS.CreateOrUpdateStream(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("bus: create stream %s: %w", StreamName, err)
	}
	return s, nil
}

// Healthy reports whether the connection is up.
func (b *Bus) Healthy() error {
	if b.Conn == nil || !b.Conn.IsConnected() {
		return errors.New("bus: not connected to NATS")
	}
	return nil
}

// Embedded reports whether this process runs the NATS server.
func (b *Bus) Embedded() bool { return b.server != nil }

// Close drains the connection and stops the embedded server.
func (b *Bus) Close() {
	if b.Conn != nil {
		b.Conn.Drain()
		for i := 0; i < 100 && !b.Conn.IsClosed(); i++ {
			time.Sleep(10 * time.Millisecond)
		}
		b.Conn.Close()
	}
	if b.server != nil {
		b.server.Shutdown()
		b.server.WaitForShutdown()
	}
}
