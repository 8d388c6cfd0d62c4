// Package metricsapi is the leaf package of the metrics system: its name
// and the Go API other systems call, without importing the system itself.
package metricsapi

import (
	"context"
	"errors"
	"github.com/prometheus/prometheus/storage"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/telemetry/prom"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// Name is the metrics system's module and role name.
const Name = "metrics"

// Scopes of the metrics routes.
const (
	ReadScope  = "metrics:read"
	WriteScope = "metrics:write"
)

func init() { platform.Declare(Name, ReadScope, WriteScope) }

// Querier answers PromQL instant and range queries over the store.
type Querier interface {
	Query(ctx context.Context, expr string, t time.Time) (prom.Result, error)
	QueryRange(ctx context.Context, expr string, start, end time.Time, step time.Duration) (prom.Result, error)
}

// Appender stores samples, as remote write does.
type Appender interface {
	Append(ctx context.Context, series []prom.TimeSeries) (prom.StoreResult, error)
}

// DBOwner gives the time-series database itself (nil until the service
// has opened it, and in `gaffer worker`), which readers such as Atlas
// query directly.
type DBOwner interface {
	DB() *tsdb.DB
}

// RemoteReader is the metrics system of a process that reads a remote
// backend (--metrics-query-url). Queryable is what its PromQL reads: the
// remote, or the remote merged with the store; ReadsRemote reports
// whether a remote is configured at all.
type RemoteReader interface {
	Queryable() storage.Queryable
	ReadsRemote() bool
}

// Store is everything the metrics service offers.
type Store interface {
	Querier
	Appender
	DBOwner
}

// From returns the metrics system running in this process, or an error
// saying it is not running.
func From(d *platform.Deps) (Store, error) {
	return platform.LookupAs[Store](d, Name)
}

// DB returns the time-series database of the metrics system running in
// this process, or an error saying it is not running or not open here.
func DB(d *platform.Deps) (*tsdb.DB, error) {
	o, err := platform.LookupAs[DBOwner](d, Name)
	if err != nil {
		return nil, err
	}
	db := o.DB()
	if db == nil {
		return nil, errors.New("the metrics system has not opened its store in this process")
	}
	return db, nil
}
