package fleet

import "time"

// Simulator holds the simulator provider's parameters. The zero value of
// a field selects its default; the defaults follow Netflix's published
// breakdown of a region evacuation before Nimble ("Project Nimble: Region
// Evacuation Reimagined", 2018): 3–5 minutes to provision instances, up
// to 25 minutes for services to start, about 5 minutes for DNS changes to
// propagate.
type Simulator struct {
	// Seed makes every draw reproducible (default 1).
	Seed uint64 `json:"seed,omitempty"`
	// ProvisionMin and ProvisionMax bound the uniform time to get an
	// instance from the cloud (default 3m and 5m).
	ProvisionMin Duration `json:"provision_min,omitempty"`
	ProvisionMax Duration `json:"provision_max,omitempty"`
	// StartupJitter spreads each instance's start-up time uniformly
	// around its cluster's (default 0.1 = ±10%), and StartupMax caps it
	// (default 25m).
	StartupJitter float64  `json:"startup_jitter,omitempty"`
	StartupMax    Duration `json:"startup_max,omitempty"`
	// UngateMin and UngateMax bound the uniform time for a dark
	// instance to take traffic once its gate opens: registration and
	// the first health checks (default 10s and 30s).
	UngateMin Duration `json:"ungate_min,omitempty"`
	UngateMax Duration `json:"ungate_max,omitempty"`
	// EdgePropagation is how long an edge-proxy steering change takes to
	// apply everywhere (default 10s).
	EdgePropagation Duration `json:"edge_propagation,omitempty"`
	// DNSPropagation is how long clients take to follow a DNS change
	// (default 5m).
	DNSPropagation Duration `json:"dns_propagation,omitempty"`
	// Warmup is how long a newly started instance needs under load to
	// reach full capacity (default 150s); until then it serves
	// ColdCapacity of it, rising linearly (default 0.5).
	Warmup       Duration `json:"warmup,omitempty"`
	ColdCapacity float64  `json:"cold_capacity,omitempty"`
	// LaunchFailureRate is the chance that a launched instance fails at
	// start-up and is replaced (default 0).
	LaunchFailureRate float64 `json:"launch_failure_rate"`
	// CallErrorRate is the chance that a provider call fails with a
	// transient error (default 0).
	CallErrorRate float64 `json:"call_error_rate"`
	// SlowCallRate is the chance that a provider call takes SlowCall
	// longer than usual (default 0; SlowCall default 1m).
	SlowCallRate float64  `json:"slow_call_rate"`
	SlowCall     Duration `json:"slow_call,omitempty"`
	// RegionInstanceLimit caps the instances (in service, starting and
	// dark) of one region; launches past it fail (default 0: no limit).
	RegionInstanceLimit int `json:"region_instance_limit"`
}

// WithDefaults returns s with every unset field at its default.
func (s Simulator) WithDefaults() Simulator {
	def := func(d *Duration, v time.Duration) {
		if *d == 0 {
			*d = Duration(v)
		}
	}
	if s.Seed == 0 {
		s.Seed = 1
	}
	def(&s.ProvisionMin, 3*time.Minute)
	def(&s.ProvisionMax, 5*time.Minute)
	def(&s.StartupMax, 25*time.Minute)
	def(&s.UngateMin, 10*time.Second)
	def(&s.UngateMax, 30*time.Second)
	def(&s.EdgePropagation, 10*time.Second)
	def(&s.DNSPropagation, 5*time.Minute)
	def(&s.Warmup, 150*time.Second)
	def(&s.SlowCall, time.Minute)
	if s.StartupJitter == 0 {
		s.StartupJitter = 0.1
	}
	if s.ColdCapacity == 0 {
		s.ColdCapacity = 0.5
	}
	if s.ProvisionMax < s.ProvisionMin {
		s.ProvisionMax = s.ProvisionMin
	}
	if s.UngateMax < s.UngateMin {
		s.UngateMax = s.UngateMin
	}
	return s
}
