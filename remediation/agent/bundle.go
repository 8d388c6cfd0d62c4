package agent

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// bundlesDir, inside the actions directory, holds unpacked bundles.
const bundlesDir = ".bundles"

// LockFile, in the actions directory, lists the bundles the host accepts
// from the server: one "name version sha256" per line. The server only
// distributes bytes; the host decides, by checksum, what may run.
const LockFile = "bundles.lock"

// maxBundle bounds a bundle's packed and unpacked size.
const maxBundle = 8 << 20

// Lock is one accepted bundle.
type Lock struct {
	Name, Version, SHA256 string
}

// ReadLocks reads the lock file of an actions directory; a missing file
// means no bundles.
func ReadLocks(dir string) ([]Lock, error) {
	f, err := os.Open(filepath.Join(dir, LockFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Lock
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 || len(f[2]) != 64 || !actionName.MatchString(f[0]) {
			return nil, fmt.Errorf("%s:%d: want \"name version sha256\"", LockFile, n)
		}
		out = append(out, Lock{Name: f[0], Version: f[1], SHA256: strings.ToLower(f[2])})
	}
	return out, sc.Err()
}

// bundlePath is where a bundle is unpacked.
func bundlePath(dir string, l Lock) string {
	return filepath.Join(dir, bundlesDir, l.Name+"-"+l.Version)
}

// Installed reports whether the bundle is already unpacked with this
// checksum.
func Installed(dir string, l Lock) bool {
	b, err := os.ReadFile(filepath.Join(bundlePath(dir, l), ".sha256"))
	return err == nil && strings.TrimSpace(string(b)) == l.SHA256
}

// InstallBundle verifies data against the lock's checksum and unpacks it
// (a gzipped tar of regular files and directories) under dir/.bundles.
func InstallBundle(dir string, l Lock, data []byte) error {
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != l.SHA256 {
		return fmt.Errorf("bundle %s %s: checksum %s does not match the lock's %s", l.Name, l.Version, got, l.SHA256)
	}
	dst := bundlePath(dir, l)
	tmp := dst + ".tmp"
	os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	if err := untar(tmp, data); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("bundle %s %s: %w", l.Name, l.Version, err)
	}
	if err := os.WriteFile(filepath.Join(tmp, ".sha256"), []byte(l.SHA256+"\n"), 0o644); err != nil {
		return err
	}
	os.RemoveAll(dst)
	return os.Rename(tmp, dst)
}

func untar(dst string, data []byte) error {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return err
	}
	tr := tar.NewReader(io.LimitReader(zr, maxBundle))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.Clean(h.Name)
		if filepath.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			return fmt.Errorf("entry %q escapes the bundle", h.Name)
		}
		p := filepath.Join(dst, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode)&0o755)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			f.Close()
			if err != nil {
				return err
			}
		default:
			return fmt.Errorf("entry %q: only regular files and directories are allowed", h.Name)
		}
	}
}

// PackBundle makes a bundle of the action directory dir and returns it
// with its SHA-256, for `gaffer runbook bundle` and tests.
func PackBundle(dir string) ([]byte, string, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		if !fi.IsDir() && !fi.Mode().IsRegular() {
			return fmt.Errorf("%s: only regular files and directories can be bundled", p)
		}
		h, err := tar.FileInfoHeader(fi, "")
		if err != nil {
			return err
		}
		h.Name, h.ModTime, h.Uid, h.Gid, h.Uname, h.Gname = filepath.ToSlash(rel), h.ModTime.Truncate(0), 0, 0, "", ""
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if fi.IsDir() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		return nil, "", fmt.Errorf("bundle %s: %w", dir, err)
	}
	sum := sha256.Sum256(buf.Bytes())
	return buf.Bytes(), hex.EncodeToString(sum[:]), nil
}
