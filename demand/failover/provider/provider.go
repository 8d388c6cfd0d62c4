// Package provider defines the small interfaces through which failover
// changes infrastructure: a Scaler sets how many instances serve in each
// cluster and reports their state, a Gate admits pre-started dark
// instances to traffic and keeps dark pools sized, and a Steerer sets the
// share of each client geography's traffic that each region serves.
//
// Every call carries absolute targets ("serve 40 instances", "keep 3
// dark", "these weights"), never deltas, so that a call repeated after a
// crash changes nothing more: executions rely on it to run every step
// at least once and still act once.
//
// Implementations: demand/failover/sim (a simulator in simulated time)
// and demand/failover/webhook (HTTP calls to the user's own automation).
package provider

import (
	"context"
	"errors"
	"time"
)

// Call describes the step making a call.
type Call struct {
	// At is the execution's clock: wall time for real providers,
	// simulated time for the simulator.
	At time.Time `json:"at"`
	// Key identifies the step (execution/step/attempt) for logs and
	// idempotency on the provider's side.
	Key string `json:"key,omitempty"`
}

// ScaleTarget asks a cluster to serve Desired instances (admitted dark
// instances count; the rest are launched or terminated).
type ScaleTarget struct {
	Cluster string `json:"cluster"`
	Desired int    `json:"desired"`
}

// GateTarget asks a cluster to keep Dark instances gated. For Ungate, the
// dark instances over Dark are admitted to traffic; for SizeDark, dark
// instances are launched or terminated to reach Dark.
type GateTarget struct {
	Cluster string `json:"cluster"`
	Dark    int    `json:"dark"`
}

// ClusterStatus is a cluster's state as the provider sees it.
type ClusterStatus struct {
	Cluster string `json:"cluster"`
	// Desired is the instances asked for; InService those serving;
	// Pending those launched or admitted and not serving yet; Dark those
	// started and gated.
	Desired   int `json:"desired"`
	InService int `json:"in_service"`
	Pending   int `json:"pending"`
	Dark      int `json:"dark"`
	// Load and Capacity are in the service's unit; Capacity is what the
	// serving instances handle now (cold ones less). Zero when unknown.
	Load     float64 `json:"load,omitempty"`
	Capacity float64 `json:"capacity,omitempty"`
	// Healthy is false when the cluster is overloaded or failing.
	Healthy bool   `json:"healthy"`
	Message string `json:"message,omitempty"`
}

// Steering layers: the edge proxies move traffic in seconds; DNS moves
// clients themselves, in minutes.
const (
	LayerEdge = "edge"
	LayerDNS  = "dns"
)

// Weights are, per geography, the weight of each region (summing to 1).
type Weights map[string]map[string]float64

// Steering is a set of weights for one layer.
type Steering struct {
	Layer   string  `json:"layer"`
	Weights Weights `json:"weights"`
}

// SteeringStatus tells whether the last changes of each layer apply
// everywhere yet, and the share of all traffic each region serves.
type SteeringStatus struct {
	EdgePropagated bool               `json:"edge_propagated"`
	DNSPropagated  bool               `json:"dns_propagated"`
	Served         map[string]float64 `json:"served,omitempty"`
}

// Scaler changes and reports cluster sizes.
type Scaler interface {
	Scale(ctx context.Context, c Call, targets []ScaleTarget) error
	Status(ctx context.Context, c Call, clusters []string) ([]ClusterStatus, error)
}

// Gate admits dark instances and sizes dark pools.
type Gate interface {
	Ungate(ctx context.Context, c Call, targets []GateTarget) error
	SizeDark(ctx context.Context, c Call, targets []GateTarget) error
}

// Steerer sets traffic steering.
type Steerer interface {
	Steer(ctx context.Context, c Call, s Steering) error
	SteeringStatus(ctx context.Context, c Call) (SteeringStatus, error)
}

// Provider is the whole of one infrastructure.
type Provider interface {
	Scaler
	Gate
	Steerer
	// Simulated reports whether the provider runs in simulated time:
	// executions then advance their own clock instead of waiting.
	Simulated() bool
}

// ErrCapacity is returned (wrapped) when the infrastructure has no room
// for the instances asked for. It is permanent: retrying does not help.
var ErrCapacity = errors.New("insufficient capacity")

// PermanentError marks an error that retrying will not cure.
type PermanentError struct{ Err error }

// Error returns the wrapped error's message.
func (e *PermanentError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err as permanent.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// IsPermanent reports whether err is permanent (including ErrCapacity).
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p) || errors.Is(err, ErrCapacity)
}
