// Package fleet is the model that regional failover plans over: regions,
// the services and their clusters in each region (capacity per instance,
// size, bounds, start-up time, dark capacity), the client geographies with
// their demand and traffic steering, and the settings of detection,
// planning and the infrastructure provider.
//
// A fleet is written in YAML (or JSON, which is YAML) and read with Parse,
// which names the field and line of every problem; Validate checks a fleet
// built in Go. Names are unique per kind; every reference (a cluster's
// region, a steering weight's region) must name a declared region.
package fleet

// Fleet is one multi-region deployment.
type Fleet struct {
	// Name identifies the fleet ([a-z0-9][a-z0-9_.-]*).
	Name string `json:"name"`
	// Regions serve traffic.
	Regions []Region `json:"regions"`
	// Geographies are where clients are; each steers its traffic to
	// regions by weight.
	Geographies []Geography `json:"geographies"`
	// Services run as one or more clusters in each region.
	Services []Service `json:"services"`
	// Demand says where demand comes from in the metrics system.
	Demand Demand `json:"demand,omitzero"`
	// Detection tunes the regional health check.
	Detection Detection `json:"detection,omitzero"`
	// Planning tunes plans and their execution.
	Planning Planning `json:"planning,omitzero"`
	// Provider is the infrastructure that plans change.
	Provider Provider `json:"provider,omitzero"`
}

// Region is one serving region.
type Region struct {
	Name string `json:"name"`
	// MaxShare caps the share of all demand the region may serve after a
	// shift (0 < MaxShare <= 1; 0 means 1).
	MaxShare float64 `json:"max_share,omitempty"`
}

// Geography is a population of clients.
type Geography struct {
	Name string `json:"name"`
	// Demand is the geography's demand now, in demand units per second
	// (e.g. stream starts per second). It stands in when the fleet has
	// no demand metric, shaped over the day by Profile.
	Demand float64 `json:"demand"`
	// Profile, optional, is 24 hourly multipliers (UTC) of Demand.
	Profile []float64 `json:"profile,omitempty"`
	// Steering gives the weight of each region in serving this
	// geography; weights are normalised to sum to 1.
	Steering map[string]float64 `json:"steering"`
	// Preference lists regions nearest first (by latency); regions not
	// listed come after, in declaration order.
	Preference []string `json:"preference,omitempty"`
}

// Service is one service of the fleet.
type Service struct {
	Name string `json:"name"`
	// Unit names what its instances serve, e.g. "requests/s" (default).
	Unit string `json:"unit,omitempty"`
	// DemandFactor is the service's load per demand unit (default 1).
	DemandFactor float64 `json:"demand_factor,omitempty"`
	// Startup is the time from launch to serving for new instances,
	// when a cluster does not say otherwise.
	Startup Duration `json:"startup,omitempty"`
	// Clusters run the service, at least one per region that serves it.
	Clusters []Cluster `json:"clusters"`
}

// Cluster is a group of identical instances of a service in one region.
type Cluster struct {
	// Name is unique in the fleet; default "<service>-<region>".
	Name   string `json:"name,omitempty"`
	Region string `json:"region"`
	// CapacityPerInstance is the load one instance serves at full
	// utilisation, in the service's unit.
	CapacityPerInstance float64 `json:"capacity_per_instance"`
	// Size is the number of instances in service now.
	Size int `json:"size"`
	// Min and Max bound Size; Max 0 means no upper bound.
	Min int `json:"min,omitempty"`
	Max int `json:"max,omitempty"`
	// Dark is the number of pre-started instances kept out of traffic
	// behind a gate, ready to be admitted at once.
	Dark int `json:"dark,omitempty"`
	// Startup overrides the service's start-up time.
	Startup Duration `json:"startup,omitempty"`
}

// Demand locates demand in the metrics system. Without metrics, the
// geographies' static demand is used.
type Demand struct {
	// RegionMetric is a PromQL expression with one series per region
	// (label RegionLabel): the key metric of regional health.
	RegionMetric string `json:"region_metric,omitempty"`
	// GeoMetric is a PromQL expression with one series per geography
	// (label GeoLabel): the demand the planner forecasts.
	GeoMetric   string `json:"geo_metric,omitempty"`
	RegionLabel string `json:"region_label,omitempty"`
	GeoLabel    string `json:"geo_label,omitempty"`
	// History is how much history the forecast uses (default 14d).
	History Duration `json:"history,omitempty"`
	// Step is the resolution of history and forecast (default 5m).
	Step Duration `json:"step,omitempty"`
}

// Detection tunes the check that recommends a failover.
type Detection struct {
	// Disabled turns the periodic check off.
	Disabled bool `json:"disabled,omitempty"`
	// Threshold is the ratio to the same time yesterday and last week
	// below which a region's key metric counts as dropped (default 0.6).
	Threshold float64 `json:"threshold,omitempty"`
	// Window is the span averaged on both sides of the comparison
	// (default 5m).
	Window Duration `json:"window,omitempty"`
	// Lookback is the span searched for the change point at the onset
	// (default 2h).
	Lookback Duration `json:"lookback,omitempty"`
	// Cooldown is the least time between two recommendations for one
	// region (default 30m).
	Cooldown Duration `json:"cooldown,omitempty"`
}

// Planning tunes plans and how they run.
type Planning struct {
	// TargetUtilization is the utilisation clusters are sized for
	// (default 0.8).
	TargetUtilization float64 `json:"target_utilization,omitempty"`
	// Headroom is added to the forecast peak (default 0.1 = 10%).
	Headroom float64 `json:"headroom,omitempty"`
	// Horizon is how far ahead the forecast peak is taken (default 1h).
	Horizon Duration `json:"horizon,omitempty"`
	// Increments is how many steps traffic is shifted in (default 4).
	Increments int `json:"increments,omitempty"`
	// PollInterval is how often a waiting step checks (default 5s).
	PollInterval Duration `json:"poll_interval,omitempty"`
	// HealthInterval is how often health is checked while holding
	// (default 15s).
	HealthInterval Duration `json:"health_interval,omitempty"`
	// WarmHold is how long each increment must stay healthy when all
	// receiving capacity is warm (default 15s); ColdHold when it lands
	// on instances started by the plan, which warm up under load
	// (default 150s).
	WarmHold Duration `json:"warm_hold,omitempty"`
	ColdHold Duration `json:"cold_hold,omitempty"`
	// ReadyTimeout bounds the wait for new capacity (default 45m).
	ReadyTimeout Duration `json:"ready_timeout,omitempty"`
	// HealthTimeout bounds the wait for one increment to be healthy
	// (default 10m).
	HealthTimeout Duration `json:"health_timeout,omitempty"`
	// DarkHorizon is how far ahead dark pools are sized (default 2h).
	DarkHorizon Duration `json:"dark_horizon,omitempty"`
	// ManageDark turns on the periodic job that sizes dark pools.
	ManageDark bool `json:"manage_dark,omitempty"`
	// NoAutoRollback leaves a failed execution where it stopped instead
	// of rolling it back.
	NoAutoRollback bool `json:"no_auto_rollback,omitempty"`
}

// Provider names the infrastructure provider and its settings.
type Provider struct {
	// Type is "simulator" (default) or "webhook".
	Type      string     `json:"type,omitempty"`
	Webhook   *Webhook   `json:"webhook,omitempty"`
	Simulator *Simulator `json:"simulator,omitempty"`
}

// Webhook is the HTTP provider's settings.
type Webhook struct {
	// URL is the base URL; calls POST to URL + "/scale" and so on.
	URL string `json:"url"`
	// SecretEnv names an environment variable of the server holding the
	// HMAC key that signs each call (X-Gaffer-Signature).
	SecretEnv string `json:"secret_env,omitempty"`
	// Timeout of one call (default 30s).
	Timeout Duration `json:"timeout,omitempty"`
}
