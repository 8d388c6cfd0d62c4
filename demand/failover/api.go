package failover

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/gaffer-sre/gaffer/demand/failover/fleet"
	"github.com/gaffer-sre/gaffer/demand/failover/plan"
	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

const api = "/api/v1/failover"

// Routes implements platform.RouteProvider.
func (s *Service) Routes(r *httpapi.Router) {
	s.fleetRoutes(r)
	s.planRoutes(r)
	s.executionRoutes(r)
}

// apiError maps the service's errors to HTTP errors.
func apiError(err error) error {
	var fe *fleet.Error
	var he *httpapi.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &he):
		return he
	case errors.As(err, &fe):
		return httpapi.BadRequest("%v", fe)
	case errors.Is(err, ErrNotFound):
		return httpapi.NotFound("%v", err)
	case errors.Is(err, ErrInfeasible):
		return httpapi.Errorf(http.StatusConflict, "infeasible", "%v", err)
	case errors.Is(err, ErrConflict):
		return httpapi.Conflict("%v", err)
	case errors.Is(err, plan.ErrBadRequest):
		return httpapi.BadRequest("%v", err)
	case errors.Is(err, errNoMetrics):
		return httpapi.Unavailable("%v", err)
	}
	return err
}

func actor(r *http.Request) string { return auth.FromContext(r.Context()).Actor() }

// pageParams reads limit and the time cursor of a list.
func pageParams(r *http.Request) (int, int64, error) {
	limit, err := httpapi.Limit(r, 50, 500)
	if err != nil {
		return 0, 0, err
	}
	var before int64
	if _, err := httpapi.DecodeCursor(r, &before); err != nil {
		return 0, 0, err
	}
	return limit, before, nil
}

func cursor(next int64) string {
	if next == 0 {
		return ""
	}
	return httpapi.EncodeCursor(next)
}

// readFleet reads a fleet document (YAML or JSON) from the body.
func readFleet(r *http.Request) (*fleet.Fleet, error) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, fleet.MaxSourceBytes+1))
	if err != nil {
		return nil, httpapi.Errorf(http.StatusRequestEntityTooLarge, "too_large", "request body: larger than %d bytes", fleet.MaxSourceBytes)
	}
	return fleet.Parse(body)
}

func queryInt(r *http.Request, name string) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, httpapi.BadRequest("%s: want a whole number, got %q", name, v)
	}
	return n, nil
}
