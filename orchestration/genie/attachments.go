package genie

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

// Limits on a multipart job submission: Genie's clients send the request
// as a "request" part and files as "attachment" parts.
const (
	maxAttachments     = 150 << 20 // all parts together, in bytes
	maxRequestPart     = 8 << 20
	maxAttachmentCount = 100
)

// reservedNames are the names an attachment may not take in the job's
// directory.
var reservedNames = map[string]bool{"stdout": true, "stderr": true, "genie": true}

// isMultipart reports whether r carries a multipart/form-data body.
func isMultipart(r *http.Request) bool {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && ct == "multipart/form-data"
}

// readMultipart reads a job request and its attachments. The
// attachments are written to a new directory under s.jobsDir, which the
// caller moves into place or removes; dir is "" when there are none.
func (s *Service) readMultipart(w http.ResponseWriter, r *http.Request) (req JobRequest, dir string, err error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxAttachments)
	mr, err := r.MultipartReader()
	if err != nil {
		return req, "", httpapi.BadRequest("request body: %v", err)
	}
	defer func() {
		if err != nil && dir != "" {
			os.RemoveAll(dir)
			dir = ""
		}
	}()
	seenRequest, count := false, 0
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return req, dir, httpapi.BadRequest("request body: %v", err)
		}
		switch p.FormName() {
		case "request":
			dec := json.NewDecoder(io.LimitReader(p, maxRequestPart))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&req); err != nil {
				return req, dir, httpapi.BadRequest("part \"request\": %v", err)
			}
			seenRequest = true
		case "attachment":
			count++
			name := p.FileName()
			switch {
			case count > maxAttachmentCount:
				return req, dir, httpapi.BadRequest("attachments: more than %d", maxAttachmentCount)
			case name == "" || name != filepath.Base(name) || strings.HasPrefix(name, ".") || strings.ContainsAny(name, `/\`):
				return req, dir, httpapi.BadRequest("attachment %q: want a plain file name", name)
			case reservedNames[name]:
				return req, dir, httpapi.BadRequest("attachment %q: the name is the job's own", name)
			}
			if dir == "" {
				if err := os.MkdirAll(s.jobsDir, 0o755); err != nil {
					return req, dir, err
				}
				if dir, err = os.MkdirTemp(s.jobsDir, ".incoming-"); err != nil {
					return req, dir, err
				}
			}
			f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if err != nil {
				return req, dir, httpapi.BadRequest("attachment %q: given twice", name)
			}
			_, err = io.Copy(f, p)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				var tooLarge *http.MaxBytesError
				if errors.As(err, &tooLarge) {
					return req, dir, httpapi.Errorf(http.StatusRequestEntityTooLarge, "too_large", "attachments: more than %d bytes in all", maxAttachments)
				}
				return req, dir, fmt.Errorf("attachment %q: %w", name, err)
			}
		default:
			return req, dir, httpapi.BadRequest("part %q: want \"request\" or \"attachment\"", p.FormName())
		}
	}
	if !seenRequest {
		return req, dir, httpapi.BadRequest("request body: no \"request\" part")
	}
	return req, dir, nil
}

// placeAttachments moves the attachments in dir to the job's directory,
// which must not exist yet; it returns the directory, to remove if the
// submission fails.
func (s *Service) placeAttachments(id, dir string) (string, error) {
	jobDir := filepath.Join(s.jobsDir, id)
	if _, err := os.Lstat(jobDir); err == nil {
		return "", fmt.Errorf("%w: job %q already exists", ErrConflict, id)
	}
	if err := os.Rename(dir, jobDir); err != nil {
		return "", fmt.Errorf("attachments: %w", err)
	}
	return jobDir, nil
}
