package bus

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/tlsca"
)

// TestEmbeddedTLS: with Options.TLS the embedded server requires TLS on
// its listener and advertises tls://; a process connecting by that URL
// with the CA pinned works, one pinning another CA or without TLS does
// not, and its error hides the password.
func TestEmbeddedTLS(t *testing.T) {
	dir := t.TempDir()
	srv, err := tlsca.NewServer(tlsca.ServerOptions{DataDir: dir, Names: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	b, err := Open(ctx, Options{DataDir: dir, Listen: "127.0.0.1:0", TLS: srv.Config, MaxAge: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if !strings.HasPrefix(b.ClientURL, "tls://") {
		t.Fatalf("ClientURL %q is not tls://", b.ClientURL)
	}
	pinned, err := tlsca.ClientConfig(filepath.Join(dir, tlsca.CertFile))
	if err != nil {
		t.Fatal(err)
	}
	w, err := Open(ctx, Options{URL: b.ClientURL, ClientTLS: pinned, MaxAge: time.Hour})
	if err != nil {
		t.Fatalf("pinned client: %v", err)
	}
	if st, err := w.Conn.TLSConnectionState(); err != nil || !st.HandshakeComplete {
		t.Fatalf("not TLS: %v", err)
	}
	w.Close()

	otherDir := t.TempDir()
	if _, _, err := tlsca.LoadOrCreate(otherDir, time.Now()); err != nil {
		t.Fatal(err)
	}
	wrong, _ := tlsca.ClientConfig(filepath.Join(otherDir, tlsca.CertFile))
	plainURL := "nats://" + strings.TrimPrefix(b.ClientURL, "tls://")
	for name, o := range map[string]Options{
		"another CA": {URL: b.ClientURL, ClientTLS: wrong},
		"plain":      {URL: plainURL},
	} {
		_, err := Open(ctx, o)
		if err == nil {
			t.Fatalf("%s: connected", name)
		}
		secret, _ := os.ReadFile(filepath.Join(dir, secretFile))
		if strings.Contains(err.Error(), strings.TrimSpace(string(secret))) {
			t.Fatalf("%s: the error shows the password: %v", name, err)
		}
	}
}
