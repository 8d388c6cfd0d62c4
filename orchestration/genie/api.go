package genie

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/orchestration/genie/resolve"
)

// API paths: Genie's v3.
const (
	apiRoot  = "/api/v3"
	jobsPath = apiRoot + "/jobs"
)

// Routes registers Genie's v3 API.
func (s *Service) Routes(r *httpapi.Router) {
	for _, kind := range []string{kindApplication, kindCommand, kindCluster} {
		s.resourceRoutes(r, kind)
	}
	s.commandRoutes(r)
	s.jobRoutes(r)
}

// apiError maps the system's errors to HTTP statuses.
func apiError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrInvalid): // first: it may wrap a missing resource the request named
		return httpapi.BadRequest("%v", strings.TrimPrefix(err.Error(), "invalid: "))
	case errors.Is(err, ErrNotFound):
		return httpapi.NotFound("%v", err)
	case errors.Is(err, ErrConflict):
		return httpapi.Conflict("%v", err)
	case errors.Is(err, errLimit):
		return httpapi.Errorf(http.StatusTooManyRequests, "user_limit_exceeded", "%v", err)
	case errors.Is(err, resolve.ErrNoCommand) || errors.Is(err, resolve.ErrNoCluster):
		return httpapi.Errorf(http.StatusPreconditionFailed, "unresolvable", "%v", err)
	}
	return err
}

func actor(r *http.Request) string { return auth.FromContext(r.Context()).Actor() }

// page reads Genie's paging parameters: page (from 0) and size (default
// 10, at most 1000).
func page(r *http.Request) (int, int, error) {
	num, size := 0, 10
	var err error
	if v := r.URL.Query().Get("page"); v != "" {
		if num, err = strconv.Atoi(v); err != nil || num < 0 {
			return 0, 0, httpapi.BadRequest("page: want a page number from 0, got %q", v)
		}
	}
	if v := r.URL.Query().Get("size"); v != "" {
		if size, err = strconv.Atoi(v); err != nil || size < 1 || size > 1000 {
			return 0, 0, httpapi.BadRequest("size: want 1 to 1000, got %q", v)
		}
	}
	return num, size, nil
}

// PageInfo is the "page" of a v3 list.
type PageInfo struct {
	Size          int `json:"size"`
	TotalElements int `json:"totalElements"`
	TotalPages    int `json:"totalPages"`
	Number        int `json:"number"`
}

// List is a v3 list: the page's items under _embedded.<name>List.
type List struct {
	Embedded map[string]any  `json:"_embedded"`
	Links    map[string]Link `json:"_links"`
	Page     PageInfo        `json:"page"`
}

// pageOf cuts items to the requested page and wraps them.
func pageOf[T any](r *http.Request, name string, items []T) (List, error) {
	num, size, err := page(r)
	if err != nil {
		return List{}, err
	}
	total := len(items)
	from, to := min(num*size, total), min((num+1)*size, total)
	return List{Embedded: map[string]any{name: items[from:to]}, Links: map[string]Link{"self": {r.URL.RequestURI()}},
		Page: PageInfo{Size: size, TotalElements: total, TotalPages: (total + size - 1) / size, Number: num}}, nil
}

// created answers 201 with the new resource's Location, as Genie does.
func created(w http.ResponseWriter, path string) error {
	w.Header().Set("Location", path)
	w.WriteHeader(http.StatusCreated)
	return nil
}

func noContent(w http.ResponseWriter) error {
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// withLinks returns a resource as the API shows it, with its HAL links.
func withLinks(kind string, d resourceDoc) any {
	c := d.common()
	self := apiRoot + "/" + kind + "/" + c.ID
	c.Links = map[string]Link{"self": {self}}
	switch v := d.(type) {
	case *Application:
		c.Links["commands"] = Link{self + "/commands"}
		return v
	case *commandRow:
		c.Links["applications"] = Link{self + "/applications"}
		c.Links["clusters"] = Link{self + "/clusters"}
		return &v.Command
	case *Cluster:
		c.Links["commands"] = Link{self + "/commands"}
		return v
	}
	return d
}

// tagList returns a resource's tags, never null.
func tagList(d resourceDoc) []string {
	if t := d.common().Tags; t != nil {
		return t
	}
	return []string{}
}

// fmtKind is a kind's singular for audit actions and messages.
func fmtKind(kind string) string { return strings.TrimSuffix(kind, "s") }

// auditTarget names a resource for the audit log.
func auditTarget(kind, id string) string { return fmt.Sprintf("%s:%s", fmtKind(kind), id) }
