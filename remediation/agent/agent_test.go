package agent

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeAction makes an action directory with a manifest and a script.
func writeAction(t *testing.T, dir, manifest, script string) string {
	t.Helper()
	d := filepath.Join(dir, "act")
	os.MkdirAll(d, 0o755)
	os.WriteFile(filepath.Join(d, ManifestFile), []byte(manifest), 0o644)
	os.WriteFile(filepath.Join(d, "run.sh"), []byte("#!/bin/sh\n"+script), 0o755)
	return d
}

func TestManifestChecks(t *testing.T) {
	cases := map[string]string{
		"bad name":         "name: Bad Name\nversion: '1'\ncommand: ./run.sh\n",
		"no version":       "name: a\ncommand: ./run.sh\n",
		"escaping command": "name: a\nversion: '1'\ncommand: ../../bin/sh\n",
		"unknown arg":      "name: a\nversion: '1'\ncommand: ./run.sh\nargs: ['{{nope}}']\n",
		"unknown field":    "name: a\nversion: '1'\ncommand: ./run.sh\nshell: true\n",
		"huge cap":         "name: a\nversion: '1'\ncommand: ./run.sh\noutput_cap: 100MiB\n",
	}
	for name, m := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := LoadAction(writeAction(t, t.TempDir(), m, "exit 0")); err == nil {
				t.Fatal("loaded")
			}
		})
	}
}

// TestParamsAreNotInterpreted: parameters reach the action as single
// arguments and environment variables, whatever they hold.
func TestParamsAreNotInterpreted(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "pwned")
	a, err := LoadAction(writeAction(t, dir, `name: echo
version: "1"
command: ./run.sh
args: ["--msg", "{{msg}}", "{{n}}"]
params:
  type: object
  properties:
    msg: {type: string}
    n: {type: integer, default: 7}
  required: [msg]
  additionalProperties: false
`, `printf '{"argc":%d,"first":"%s","msg":"%s","n":"%s","env":"%s"}' "$#" "$1" "$2" "$3" "$PARAM_MSG"`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.CheckParams(json.RawMessage(`{"msg": 1}`)); err == nil {
		t.Fatal("a number passed as the string msg")
	}
	if _, err := a.CheckParams(json.RawMessage(`{"msg": "x", "extra": true}`)); err == nil {
		t.Fatal("an undeclared parameter passed")
	}
	evil := "x; touch " + marker + " $(touch " + marker + ")"
	raw, _ := json.Marshal(map[string]string{"msg": evil})
	params, err := a.CheckParams(raw)
	if err != nil {
		t.Fatal(err)
	}
	res := a.Exec(context.Background(), "r1", params, 0, nil)
	if res.Status != StatusSucceeded {
		t.Fatalf("exec: %+v", res)
	}
	var got map[string]any
	if err := json.Unmarshal(res.Output, &got); err != nil {
		t.Fatalf("output %q: %v", res.Stdout, err)
	}
	if got["argc"].(float64) != 3 || got["msg"] != evil || got["env"] != evil || got["n"] != "7" {
		t.Fatalf("argv %v", got)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("a parameter was run by a shell")
	}
}

func TestExecTimeoutAndCap(t *testing.T) {
	a, err := LoadAction(writeAction(t, t.TempDir(), "name: t\nversion: '1'\ncommand: ./run.sh\ntimeout: 200ms\noutput_cap: 10\n",
		"echo 0123456789abcdef; exec sleep 30"))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res := a.Exec(context.Background(), "r", nil, 0, nil)
	if res.Status != StatusTimeout || time.Since(start) > 10*time.Second {
		t.Fatalf("timeout: %+v after %s", res, time.Since(start))
	}
	if res.Stdout != "0123456789" || !res.Truncated {
		t.Fatalf("cap: %q truncated=%v", res.Stdout, res.Truncated)
	}
}

func tarGz(t *testing.T, name string, body []byte) ([]byte, string) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
	tw.Write(body)
	tw.Close()
	zw.Close()
	sum := sha256.Sum256(buf.Bytes())
	return buf.Bytes(), hex.EncodeToString(sum[:])
}

func TestBundleChecks(t *testing.T) {
	dir := t.TempDir()
	data, sum := tarGz(t, "../escape.txt", []byte("x"))
	if err := InstallBundle(dir, Lock{Name: "a", Version: "1", SHA256: sum}, data); err == nil || !strings.Contains(err.Error(), "escapes") {
		t.Fatalf("path traversal: %v", err)
	}
	data, sum = tarGz(t, "ok.txt", []byte("x"))
	if err := InstallBundle(dir, Lock{Name: "a", Version: "1", SHA256: strings.Repeat("0", 64)}, data); err == nil {
		t.Fatal("wrong checksum installed")
	}
	l := Lock{Name: "a", Version: "1", SHA256: sum}
	if err := InstallBundle(dir, l, data); err != nil || !Installed(dir, l) {
		t.Fatalf("install: %v", err)
	}
	os.WriteFile(filepath.Join(dir, LockFile), []byte("# comment\na 1 "+sum+"\n"), 0o644)
	if locks, err := ReadLocks(dir); err != nil || len(locks) != 1 || locks[0] != l {
		t.Fatalf("locks %v %v", locks, err)
	}
	os.WriteFile(filepath.Join(dir, LockFile), []byte("a 1\n"), 0o644)
	if _, err := ReadLocks(dir); err == nil {
		t.Fatal("malformed lock read")
	}
}

func TestRunAsUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("run-as test skipped: needs root to switch users")
	}
	dir := t.TempDir()
	os.Chmod(filepath.Dir(dir), 0o755)
	os.Chmod(dir, 0o755)
	a, err := LoadAction(writeAction(t, dir, "name: who\nversion: '1'\ncommand: ./run.sh\nuser: nobody\n", `id -un`))
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(dir, "act"), 0o755)
	res := a.Exec(context.Background(), "r", nil, 0, nil)
	if res.Status != StatusSucceeded || strings.TrimSpace(res.Stdout) != "nobody" {
		t.Fatalf("run as nobody: %+v", res)
	}
}
