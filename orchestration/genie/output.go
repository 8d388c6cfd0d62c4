package genie

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

// Entry is one file or directory of a job's output listing.
type Entry struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	Size int64  `json:"size"`
	// LastModified is in Unix milliseconds, as Genie writes it.
	LastModified int64 `json:"lastModified"`
}

// Directory is the listing of a directory of a job's output, in Genie's
// shape.
type Directory struct {
	Parent      *Entry  `json:"parent"`
	Directories []Entry `json:"directories"`
	Files       []Entry `json:"files"`
}

// openOutput opens the job's directory as a root that no path (or
// symbolic link) can leave.
func (s *Service) openOutput(id string) (*os.Root, error) {
	j, err := s.getJob(context.Background(), id)
	if err != nil {
		return nil, err
	}
	if j.Dir == "" {
		return nil, fmt.Errorf("%w: job %s has no working directory (%s: not started yet, or removed after --genie-retention)", ErrNotFound, id, j.Status)
	}
	return os.OpenRoot(j.Dir)
}

// apiOutput serves a job's directory: a listing for a directory, the
// file's bytes (with Range) for a file.
func (s *Service) apiOutput(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	rel := path.Clean("/" + r.PathValue("path"))
	if _, err := s.getJob(r.Context(), id); err != nil {
		return apiError(err)
	}
	root, err := s.openOutput(id)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return httpapi.NotFound("job %s: its directory is gone from this host", id)
		}
		return apiError(err)
	}
	defer root.Close()
	name := strings.TrimPrefix(rel, "/")
	if name == "" {
		name = "."
	}
	f, err := root.Open(name)
	if err != nil {
		return httpapi.NotFound("job %s: output %s: no such file or directory", id, rel)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	base := jobsPath + "/" + id + "/output"
	if !fi.IsDir() {
		if ct := contentType(name); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		http.ServeContent(w, r, fi.Name(), fi.ModTime(), f)
		return nil
	}
	ents, err := f.ReadDir(-1)
	if err != nil {
		return err
	}
	sort.Slice(ents, func(a, b int) bool { return ents[a].Name() < ents[b].Name() })
	dir := Directory{Directories: []Entry{}, Files: []Entry{}}
	prefix := strings.TrimSuffix(base+rel, "/")
	if rel != "/" {
		up := path.Dir(rel)
		dir.Parent = &Entry{Name: "../", URL: strings.TrimSuffix(base+up, "/") + "/"}
	}
	for _, e := range ents {
		info, err := e.Info()
		if err != nil {
			continue
		}
		ent := Entry{Name: e.Name(), URL: prefix + "/" + e.Name(), Size: info.Size(), LastModified: info.ModTime().UnixMilli()}
		switch {
		case e.IsDir():
			ent.Name += "/"
			ent.URL += "/"
			ent.Size = 0
			dir.Directories = append(dir.Directories, ent)
		case info.Mode().IsRegular():
			dir.Files = append(dir.Files, ent)
		}
	}
	return httpapi.WriteJSON(w, http.StatusOK, dir)
}

// contentType is text/plain for the job's logs and scripts, "" (sniffed)
// for anything else.
func contentType(name string) string {
	switch path.Base(name) {
	case "stdout", "stderr", "run", "env.log", "genie.log":
		return "text/plain; charset=utf-8"
	}
	return ""
}

// readTail returns up to max bytes of a job's file from offset, and the
// offset after them, for live output.
func (s *Service) readTail(id, name string, offset, max int64) ([]byte, int64, time.Time, error) {
	root, err := s.openOutput(id)
	if err != nil {
		return nil, offset, time.Time{}, err
	}
	defer root.Close()
	f, err := root.Open(name)
	if err != nil {
		return nil, offset, time.Time{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, offset, time.Time{}, err
	}
	if offset < 0 || offset > fi.Size() {
		offset = 0
	}
	n := min(fi.Size()-offset, max)
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, offset); err != nil {
		return nil, offset, time.Time{}, err
	}
	return buf, offset + n, fi.ModTime(), nil
}
