package genie

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// maxDependency bounds one staged file, in bytes.
const maxDependency = 1 << 30

// stageSet is what one resource contributes to a job's directory: its
// configs and dependencies, and its setup file, sourced before the
// command runs.
type stageSet struct {
	// under is the set's directory, relative to the job's.
	under        string
	configs      []string
	dependencies []string
	setupFile    string
}

// stage copies every set's files into dir, in order, and returns the
// staged setup files, relative to dir, in the order to source them.
func (s *Service) stage(ctx context.Context, dir string, sets []stageSet) ([]string, error) {
	var setups []string
	for _, set := range sets {
		for _, group := range []struct {
			sub  string
			uris []string
		}{{"config", set.configs}, {"dependencies", set.dependencies}} {
			for _, uri := range group.uris {
				if _, err := s.fetch(ctx, uri, filepath.Join(dir, set.under, group.sub)); err != nil {
					return nil, err
				}
			}
		}
		if set.setupFile != "" {
			p, err := s.fetch(ctx, set.setupFile, filepath.Join(dir, set.under))
			if err != nil {
				return nil, err
			}
			rel, _ := filepath.Rel(dir, p)
			setups = append(setups, rel)
		}
	}
	return setups, nil
}

// fetch copies the file at uri (a path, file://, http:// or https://)
// into the directory to and returns its path there.
func (s *Service) fetch(ctx context.Context, uri, to string) (string, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return "", fmt.Errorf("dependency %q: %w", uri, err)
	}
	var src io.ReadCloser
	var name string
	switch u.Scheme {
	case "", "file":
		p := u.Path
		if !filepath.IsAbs(p) {
			return "", fmt.Errorf("dependency %q: want an absolute path", uri)
		}
		fi, err := os.Stat(p)
		if err != nil {
			return "", fmt.Errorf("dependency %q: %w", uri, err)
		}
		if !fi.Mode().IsRegular() {
			return "", fmt.Errorf("dependency %q: not a regular file", uri)
		}
		f, err := os.Open(p)
		if err != nil {
			return "", fmt.Errorf("dependency %q: %w", uri, err)
		}
		src, name = f, filepath.Base(p)
	case "http", "https":
		req, err := http.NewRequestWithContext(ctx, "GET", uri, nil)
		if err != nil {
			return "", fmt.Errorf("dependency %q: %w", uri, err)
		}
		resp, err := s.http.Do(req)
		if err != nil {
			return "", fmt.Errorf("dependency %q: %w", uri, err)
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return "", fmt.Errorf("dependency %q: HTTP %d", uri, resp.StatusCode)
		}
		src, name = resp.Body, path.Base(u.Path)
	default:
		return "", fmt.Errorf("dependency %q: scheme %q: want a path, file://, http:// or https://", uri, u.Scheme)
	}
	defer src.Close()
	if name == "" || name == "." || name == "/" || strings.HasPrefix(name, ".") {
		return "", fmt.Errorf("dependency %q: no file name to stage it under", uri)
	}
	if err := os.MkdirAll(to, 0o755); err != nil {
		return "", err
	}
	dst := filepath.Join(to, name)
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return "", err
	}
	n, err := io.Copy(f, io.LimitReader(src, maxDependency+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("dependency %q: %w", uri, err)
	}
	if n > maxDependency {
		return "", fmt.Errorf("dependency %q: larger than %d bytes", uri, maxDependency)
	}
	return dst, nil
}
