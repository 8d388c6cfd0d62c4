package jupyter

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	s, err := NewSigner("hmac-sha256", "secret")
	if err != nil {
		t.Fatal(err)
	}
	m := &Message{Identities: [][]byte{[]byte("id")}, Header: Header{MsgID: "1", MsgType: "execute_request", Version: ProtocolVersion},
		ParentHeader: Header{MsgID: "0", MsgType: "x"}, Content: []byte(`{"code":"1"}`), Buffers: [][]byte{[]byte("b")}}
	frames, err := s.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Decode(frames)
	if err != nil {
		t.Fatal(err)
	}
	if got.Header != m.Header || got.ParentHeader != m.ParentHeader || string(got.Content) != string(m.Content) ||
		len(got.Identities) != 1 || len(got.Buffers) != 1 || !bytes.Equal(got.Buffers[0], []byte("b")) {
		t.Fatalf("round trip: %+v", got)
	}
	frames[len(frames)-2] = []byte(`{"code":"2"}`) // tamper with the content
	if _, err := s.Decode(frames); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("tampered message: %v", err)
	}
	other, _ := NewSigner("hmac-sha256", "other")
	frames, _ = s.Encode(m)
	if _, err := other.Decode(frames); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("wrong key: %v", err)
	}
}

func TestDecodeNamesTheBadFrame(t *testing.T) {
	s, _ := NewSigner("", "")
	for _, c := range []struct {
		frames [][]byte
		want   string
	}{
		{[][]byte{[]byte("x")}, "delimiter"},
		{[][]byte{delimiter, nil, []byte("{}")}, "at least 5"},
		{[][]byte{delimiter, nil, []byte("{"), []byte("{}"), []byte("{}"), []byte("{}")}, "header frame"},
		{[][]byte{delimiter, nil, []byte("{}"), []byte("{}"), []byte("{}"), []byte("{}")}, "msg_type is empty"},
		{[][]byte{delimiter, nil, []byte(`{"msg_type":"a"}`), []byte("[]"), []byte("{}"), []byte("{}")}, "parent_header frame"},
		{[][]byte{delimiter, nil, []byte(`{"msg_type":"a"}`), []byte("{}"), []byte("{}"), []byte("{")}, "content frame"},
	} {
		if _, err := s.Decode(c.frames); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Decode(%q) = %v, want an error about %s", c.frames, err, c.want)
		}
	}
	if _, err := NewSigner("hmac-md5", "k"); err == nil {
		t.Error("hmac-md5 accepted")
	}
}

func FuzzDecode(f *testing.F) {
	s, _ := NewSigner("hmac-sha256", "k")
	good, _ := s.Encode(&Message{Header: Header{MsgID: "1", MsgType: "status"}, Content: []byte(`{}`)})
	f.Add(bytes.Join(good, []byte{0}), true)
	f.Add([]byte("<IDS|MSG>\x00\x00{}\x00{}\x00{}\x00{}"), false)
	f.Fuzz(func(t *testing.T, data []byte, signed bool) {
		frames := bytes.Split(data, []byte{0})
		dec := s
		if !signed {
			dec, _ = NewSigner("", "")
		}
		m, err := dec.Decode(frames)
		if err != nil {
			return
		}
		again, err := dec.Encode(m)
		if err != nil {
			t.Fatalf("decoded message does not encode: %v", err)
		}
		if _, err := dec.Decode(again); err != nil {
			t.Fatalf("re-encoded message does not decode: %v", err)
		}
	})
}

func TestConnectionFile(t *testing.T) {
	c, err := NewConnectionInfo("python3")
	if err != nil {
		t.Fatal(err)
	}
	defer c.releasePorts()
	ports := map[int]bool{c.ShellPort: true, c.IOPubPort: true, c.StdinPort: true, c.ControlPort: true, c.HBPort: true}
	if len(ports) != 5 || c.Key == "" || c.SignatureScheme != "hmac-sha256" {
		t.Fatalf("connection info %+v", c)
	}
	other, err := NewConnectionInfo("python3")
	if err != nil {
		t.Fatal(err)
	}
	defer other.releasePorts()
	for _, p := range []int{other.ShellPort, other.IOPubPort, other.StdinPort, other.ControlPort, other.HBPort} {
		if ports[p] {
			t.Fatalf("port %d handed to two kernels", p)
		}
	}
	path, err := c.WriteFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var back ConnectionInfo
	if err := json.Unmarshal(data, &back); err != nil || back != *c {
		t.Fatalf("read back %+v, %v", back, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("connection file mode %v, want 0600 (it holds the key)", fi.Mode().Perm())
	}
}

func TestParseKernelSpec(t *testing.T) {
	s, err := ParseKernelSpec("py", []byte(`{"argv":["python3","-m","ipykernel_launcher","-f","{connection_file}"],"display_name":"Py","language":"python"}`))
	if err != nil || s.InterruptMode != "signal" {
		t.Fatalf("%+v %v", s, err)
	}
	if got := s.command("/tmp/c.json"); got[4] != "/tmp/c.json" {
		t.Fatalf("command %v", got)
	}
	for _, c := range []struct{ name, in, want string }{
		{"py", `{"argv":[],"display_name":"x"}`, "argv is empty"},
		{"py", `{"argv":["x"],"display_name":"x"}`, "{connection_file}"},
		{"py", `{"argv":["x","{connection_file}"]}`, "display_name"},
		{"py", `{"argv":["x","{connection_file}"],"display_name":"x","interrupt_mode":"poke"}`, "interrupt_mode"},
		{"../x", `{}`, "kernel spec name"},
		{"py", `[`, "kernel.json"},
	} {
		if _, err := ParseKernelSpec(c.name, []byte(c.in)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseKernelSpec(%s) = %v, want an error about %s", c.in, err, c.want)
		}
	}
	if _, err := FindKernelSpec("nosuch", []string{t.TempDir()}); !errors.Is(err, ErrNoKernelSpec) {
		t.Fatalf("FindKernelSpec(nosuch) = %v", err)
	}
}

func FuzzParseKernelSpec(f *testing.F) {
	f.Add("python3", []byte(`{"argv":["python3","-f","{connection_file}"],"display_name":"P","language":"python"}`))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		s, err := ParseKernelSpec(name, data)
		if err == nil && (len(s.Argv) == 0 || s.DisplayName == "") {
			t.Fatalf("accepted %+v", s)
		}
	})
}
