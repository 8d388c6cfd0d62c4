package jupyter

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
)

// ConnectionInfo is the content of a kernel's connection file: where its
// five channels listen and the key that signs its messages.
type ConnectionInfo struct {
	Transport       string `json:"transport"`
	IP              string `json:"ip"`
	ShellPort       int    `json:"shell_port"`
	IOPubPort       int    `json:"iopub_port"`
	StdinPort       int    `json:"stdin_port"`
	ControlPort     int    `json:"control_port"`
	HBPort          int    `json:"hb_port"`
	Key             string `json:"key"`
	SignatureScheme string `json:"signature_scheme"`
	KernelName      string `json:"kernel_name,omitempty"`
}

// endpoint returns the ZeroMQ address of a port of the connection.
func (c *ConnectionInfo) endpoint(port int) string {
	return fmt.Sprintf("%s://%s:%d", c.Transport, c.IP, port)
}

// NewConnectionInfo returns connection info on loopback with five ports
// free at the time of the call, and no other kernel of this process's,
// and a fresh random key. The ports stay reserved until the kernel
// started with it is killed.
func NewConnectionInfo(kernelName string) (*ConnectionInfo, error) {
	ports, err := freePorts(5)
	if err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("connection key: %w", err)
	}
	return &ConnectionInfo{
		Transport: "tcp", IP: "127.0.0.1",
		ShellPort: ports[0], IOPubPort: ports[1], StdinPort: ports[2], ControlPort: ports[3], HBPort: ports[4],
		Key: hex.EncodeToString(key), SignatureScheme: "hmac-sha256", KernelName: kernelName,
	}, nil
}

// reservedPorts are the ports handed to kernels of this process that are
// still running: the OS would hand them out again until the kernel binds
// them, and two kernels given one port race for it (one dies, "Address
// already in use"), so freePorts skips them, as jupyter_client does.
var reservedPorts = struct {
	sync.Mutex
	m map[int]bool
}{m: map[int]bool{}}

// freePorts asks the OS for n distinct free TCP ports on loopback that
// no other kernel of this process holds, and reserves them until
// releasePorts. The kernel binds them after we release the listeners; a
// port another process takes in between makes the kernel exit, which
// Start reports (and retries).
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	reservedPorts.Lock()
	defer reservedPorts.Unlock()
	for tries := 0; len(ports) < n; {
		if tries > 1000 {
			return nil, fmt.Errorf("find a free port: %d tried, all held by other kernels", tries)
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		if p := l.Addr().(*net.TCPAddr).Port; reservedPorts.m[p] {
			l.Close() // at once: its kernel is about to bind it
		} else {
			listeners = append(listeners, l) // held, so that the OS offers another port next
			ports = append(ports, p)
		}
		tries++
	}
	for _, p := range ports {
		reservedPorts.m[p] = true
	}
	return ports, nil
}

// releasePorts returns a connection's ports once its kernel has exited.
func (c *ConnectionInfo) releasePorts() {
	reservedPorts.Lock()
	defer reservedPorts.Unlock()
	for _, p := range []int{c.ShellPort, c.IOPubPort, c.StdinPort, c.ControlPort, c.HBPort} {
		delete(reservedPorts.m, p)
	}
}

// WriteFile writes the connection file into dir, readable only by its
// owner since it holds the key, and returns its path.
func (c *ConnectionInfo) WriteFile(dir string) (string, error) {
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, "kernel-*.json")
	if err != nil {
		return "", fmt.Errorf("create connection file: %w", err)
	}
	path := f.Name()
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return "", fmt.Errorf("write connection file %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return "", fmt.Errorf("write connection file %s: %w", path, err)
	}
	return filepath.Clean(path), nil
}
