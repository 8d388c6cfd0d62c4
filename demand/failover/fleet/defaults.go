package fleet

import "time"

// Defaults of the settings, applied by the WithDefaults methods.
const (
	DefaultThreshold         = 0.6
	DefaultTargetUtilization = 0.8
	DefaultHeadroom          = 0.1
	DefaultIncrements        = 4
)

func setDuration(d *Duration, v time.Duration) {
	if *d == 0 {
		*d = Duration(v)
	}
}

// WithDefaults returns d with unset fields at their defaults.
func (d Demand) WithDefaults() Demand {
	if d.RegionLabel == "" {
		d.RegionLabel = "region"
	}
	if d.GeoLabel == "" {
		d.GeoLabel = "geo"
	}
	setDuration(&d.History, 14*24*time.Hour)
	setDuration(&d.Step, 5*time.Minute)
	return d
}

// WithDefaults returns d with unset fields at their defaults.
func (d Detection) WithDefaults() Detection {
	if d.Threshold == 0 {
		d.Threshold = DefaultThreshold
	}
	setDuration(&d.Window, 5*time.Minute)
	setDuration(&d.Lookback, 2*time.Hour)
	setDuration(&d.Cooldown, 30*time.Minute)
	return d
}

// WithDefaults returns p with unset fields at their defaults.
func (p Planning) WithDefaults() Planning {
	if p.TargetUtilization == 0 {
		p.TargetUtilization = DefaultTargetUtilization
	}
	if p.Headroom == 0 {
		p.Headroom = DefaultHeadroom
	}
	if p.Increments == 0 {
		p.Increments = DefaultIncrements
	}
	setDuration(&p.Horizon, time.Hour)
	setDuration(&p.PollInterval, 5*time.Second)
	setDuration(&p.HealthInterval, 15*time.Second)
	setDuration(&p.WarmHold, 15*time.Second)
	setDuration(&p.ColdHold, 150*time.Second)
	setDuration(&p.ReadyTimeout, 45*time.Minute)
	setDuration(&p.HealthTimeout, 10*time.Minute)
	setDuration(&p.DarkHorizon, 2*time.Hour)
	return p
}

// ProviderType returns the provider's type, "simulator" by default.
func (f *Fleet) ProviderType() string {
	if f.Provider.Type == "" {
		return "simulator"
	}
	return f.Provider.Type
}

// ClusterName returns c's name, or its default "<service>-<region>".
func ClusterName(service string, c Cluster) string {
	if c.Name != "" {
		return c.Name
	}
	return service + "-" + c.Region
}

// FactorOf returns the service's demand factor (default 1).
func (s *Service) FactorOf() float64 {
	if s.DemandFactor == 0 {
		return 1
	}
	return s.DemandFactor
}

// UnitOf returns the service's unit (default "requests/s").
func (s *Service) UnitOf() string {
	if s.Unit == "" {
		return "requests/s"
	}
	return s.Unit
}

// StartupOf returns the start-up time of cluster c of service s.
func (s *Service) StartupOf(c Cluster) time.Duration {
	if c.Startup > 0 {
		return c.Startup.D()
	}
	return s.Startup.D()
}

// MaxShareOf returns the region's maximum share (default 1).
func (r Region) MaxShareOf() float64 {
	if r.MaxShare == 0 {
		return 1
	}
	return r.MaxShare
}

// RegionIndex returns the index of the region called name, or -1.
func (f *Fleet) RegionIndex(name string) int {
	for i, r := range f.Regions {
		if r.Name == name {
			return i
		}
	}
	return -1
}

// Normalize fills in default cluster names, so that every cluster can be
// referred to by name.
func (f *Fleet) Normalize() {
	for i := range f.Services {
		s := &f.Services[i]
		for j := range s.Clusters {
			s.Clusters[j].Name = ClusterName(s.Name, s.Clusters[j])
		}
	}
}

// Clone returns a deep copy of f.
func (f *Fleet) Clone() *Fleet {
	out := *f
	out.Regions = append([]Region(nil), f.Regions...)
	out.Geographies = make([]Geography, len(f.Geographies))
	for i, g := range f.Geographies {
		g.Profile = append([]float64(nil), g.Profile...)
		g.Preference = append([]string(nil), g.Preference...)
		w := make(map[string]float64, len(g.Steering))
		for k, v := range g.Steering {
			w[k] = v
		}
		g.Steering = w
		out.Geographies[i] = g
	}
	out.Services = make([]Service, len(f.Services))
	for i, s := range f.Services {
		s.Clusters = append([]Cluster(nil), s.Clusters...)
		out.Services[i] = s
	}
	if f.Provider.Webhook != nil {
		w := *f.Provider.Webhook
		out.Provider.Webhook = &w
	}
	if f.Provider.Simulator != nil {
		s := *f.Provider.Simulator
		out.Provider.Simulator = &s
	}
	return &out
}
