package cpservice

import (
	"errors"
	"fmt"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// storeRole is the system that holds the metrics.
const storeRole = "tsdb"

// Store is what the series endpoint needs from the metrics store: Atlas-
// style consolidation of the series that label matchers select, one
// aggregate per step window. *tsdb.DB implements it.
type Store interface {
	Consolidate(mint, maxt, step int64, ms []*tsdb.Matcher, fn tsdb.ConsolidateFunc) error
}

// errNoStore reports that no metrics store is reachable.
var errNoStore = errors.New("no metrics store")

// lookupStore finds the store through the running tsdb service: either the
// service consolidates itself (it embeds *tsdb.DB, say) or it hands out its
// *tsdb.DB.
func lookupStore(deps *platform.Deps) (Store, error) {
	svc, ok := deps.Lookup(storeRole)
	if !ok {
		return nil, fmt.Errorf("%w: the %s role is not running in this process", errNoStore, storeRole)
	}
	switch v := svc.(type) {
	case Store:
		return v, nil
	case interface{ DB() *tsdb.DB }:
		if db := v.DB(); db != nil {
			return db, nil
		}
		return nil, fmt.Errorf("%w: the %s service has no open store", errNoStore, storeRole)
	}
	return nil, fmt.Errorf("%w: the %s service (%T) offers neither Consolidate nor DB()", errNoStore, storeRole, svc)
}
