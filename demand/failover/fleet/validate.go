package fleet

import (
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"
)

// Limits keep a fleet document within what one plan handles quickly.
const (
	MaxRegions     = 64
	MaxGeographies = 1000
	MaxServices    = 20000
	MaxClusters    = 100000
)

var (
	nameRE     = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,99}$`)
	labelRE    = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	envRE      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	promParser = parser.NewParser(parser.Options{})
)

// Problem is one reason a fleet is refused.
type Problem struct {
	// Path names the field, e.g. services[2].clusters[0].size.
	Path string `json:"path"`
	// Line and Column (1-based) locate it in the source; 0 when unknown.
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Message string `json:"message"`
}

// String formats the problem as "line N: path: message".
func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("line %d: %s: %s", p.Line, p.Path, p.Message)
	}
	return p.Path + ": " + p.Message
}

// Error lists the problems of a fleet.
type Error struct {
	Problems []Problem `json:"problems"`
}

// Error lists the problems on one line.
func (e *Error) Error() string {
	parts := make([]string, 0, len(e.Problems))
	for _, p := range e.Problems {
		parts = append(parts, p.String())
	}
	return "invalid fleet: " + strings.Join(parts, "; ")
}

type checker struct {
	problems []Problem
}

func (c *checker) add(path, format string, args ...any) {
	if len(c.problems) < 100 {
		c.problems = append(c.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
	}
}

func (c *checker) name(path, v string) {
	switch {
	case v == "":
		c.add(path, "required")
	case !nameRE.MatchString(v):
		c.add(path, "%q: want lower-case letters, digits, '_', '.' or '-', starting with a letter or digit, at most 100", v)
	}
}

func (c *checker) number(path string, v, lo, hi float64, what string) {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < lo || v > hi {
		c.add(path, "%v: want %s", v, what)
	}
}

func (c *checker) duration(path string, d Duration) {
	if d < 0 {
		c.add(path, "must not be negative")
	}
}

// Validate checks f and returns an *Error naming every faulty field.
func (f *Fleet) Validate() error {
	c := &checker{}
	c.name("name", f.Name)
	regions := c.regions(f.Regions)
	c.geographies(f.Geographies, regions)
	c.services(f.Services, regions)
	c.demand(f.Demand)
	c.detection(f.Detection)
	c.planning(f.Planning)
	c.provider(f.Provider)
	if len(c.problems) > 0 {
		return &Error{Problems: c.problems}
	}
	return nil
}

func (c *checker) regions(rs []Region) map[string]bool {
	seen := map[string]bool{}
	if len(rs) == 0 {
		c.add("regions", "at least one region is required")
	}
	if len(rs) > MaxRegions {
		c.add("regions", "%d regions: at most %d", len(rs), MaxRegions)
	}
	for i, r := range rs {
		p := fmt.Sprintf("regions[%d]", i)
		c.name(p+".name", r.Name)
		if seen[r.Name] {
			c.add(p+".name", "%q is declared twice", r.Name)
		}
		seen[r.Name] = true
		c.number(p+".max_share", r.MaxShare, 0, 1, "a share between 0 and 1")
	}
	return seen
}

func (c *checker) geographies(gs []Geography, regions map[string]bool) {
	if len(gs) == 0 {
		c.add("geographies", "at least one geography is required")
	}
	if len(gs) > MaxGeographies {
		c.add("geographies", "%d geographies: at most %d", len(gs), MaxGeographies)
	}
	seen := map[string]bool{}
	for i, g := range gs {
		p := fmt.Sprintf("geographies[%d]", i)
		c.name(p+".name", g.Name)
		if seen[g.Name] {
			c.add(p+".name", "%q is declared twice", g.Name)
		}
		seen[g.Name] = true
		c.number(p+".demand", g.Demand, 0, 1e15, "a demand of at least 0")
		if len(g.Profile) != 0 && len(g.Profile) != 24 {
			c.add(p+".profile", "%d values: want 24, one per hour (UTC)", len(g.Profile))
		}
		for j, v := range g.Profile {
			c.number(fmt.Sprintf("%s.profile[%d]", p, j), v, 0, 1e6, "a multiplier of at least 0")
		}
		if len(g.Steering) == 0 {
			c.add(p+".steering", "required: the weight of at least one region")
		}
		sum := 0.0
		for r, w := range g.Steering {
			if !regions[r] {
				c.add(p+".steering."+r, "no region is called %q", r)
			}
			c.number(p+".steering."+r, w, 0, 1e6, "a weight of at least 0")
			if w > 0 && !math.IsInf(w, 0) {
				sum += w
			}
		}
		if len(g.Steering) > 0 && sum == 0 {
			c.add(p+".steering", "the weights sum to 0")
		}
		pref := map[string]bool{}
		for j, r := range g.Preference {
			pp := fmt.Sprintf("%s.preference[%d]", p, j)
			if !regions[r] {
				c.add(pp, "no region is called %q", r)
			}
			if pref[r] {
				c.add(pp, "%q is listed twice", r)
			}
			pref[r] = true
		}
	}
}

func (c *checker) services(ss []Service, regions map[string]bool) {
	if len(ss) == 0 {
		c.add("services", "at least one service is required")
	}
	if len(ss) > MaxServices {
		c.add("services", "%d services: at most %d", len(ss), MaxServices)
	}
	seen, clusters := map[string]bool{}, map[string]bool{}
	total := 0
	for i, s := range ss {
		p := fmt.Sprintf("services[%d]", i)
		c.name(p+".name", s.Name)
		if seen[s.Name] {
			c.add(p+".name", "%q is declared twice", s.Name)
		}
		seen[s.Name] = true
		if len(s.Unit) > 40 {
			c.add(p+".unit", "longer than 40 characters")
		}
		c.number(p+".demand_factor", s.DemandFactor, 0, 1e9, "a factor of at least 0")
		c.duration(p+".startup", s.Startup)
		if len(s.Clusters) == 0 {
			c.add(p+".clusters", "at least one cluster is required")
		}
		total += len(s.Clusters)
		for j, cl := range s.Clusters {
			c.cluster(fmt.Sprintf("%s.clusters[%d]", p, j), s.Name, cl, regions, clusters)
		}
	}
	if total > MaxClusters {
		c.add("services", "%d clusters: at most %d", total, MaxClusters)
	}
}

func (c *checker) cluster(p, service string, cl Cluster, regions, names map[string]bool) {
	if cl.Name != "" {
		c.name(p+".name", cl.Name)
	}
	if !regions[cl.Region] {
		if cl.Region == "" {
			c.add(p+".region", "required")
		} else {
			c.add(p+".region", "no region is called %q", cl.Region)
		}
	}
	name := ClusterName(service, cl)
	if names[name] {
		c.add(p+".name", "a cluster called %q exists already", name)
	}
	names[name] = true
	if math.IsNaN(cl.CapacityPerInstance) || math.IsInf(cl.CapacityPerInstance, 0) || cl.CapacityPerInstance <= 0 {
		c.add(p+".capacity_per_instance", "%v: want a capacity above 0", cl.CapacityPerInstance)
	}
	const most = 10_000_000
	for _, f := range []struct {
		name string
		v    int
	}{{"size", cl.Size}, {"min", cl.Min}, {"max", cl.Max}, {"dark", cl.Dark}} {
		if f.v < 0 || f.v > most {
			c.add(p+"."+f.name, "%d: want 0 to %d", f.v, most)
		}
	}
	if cl.Max > 0 && cl.Min > cl.Max {
		c.add(p+".min", "%d is above max %d", cl.Min, cl.Max)
	}
	if cl.Size < cl.Min {
		c.add(p+".size", "%d is below min %d", cl.Size, cl.Min)
	}
	if cl.Max > 0 && cl.Size > cl.Max {
		c.add(p+".size", "%d is above max %d", cl.Size, cl.Max)
	}
	c.duration(p+".startup", cl.Startup)
}

func (c *checker) demand(d Demand) {
	for _, m := range []struct{ path, expr string }{{"demand.region_metric", d.RegionMetric}, {"demand.geo_metric", d.GeoMetric}} {
		if m.expr == "" {
			continue
		}
		if _, err := promParser.ParseExpr(m.expr); err != nil {
			c.add(m.path, "not a PromQL expression: %v", err)
		}
	}
	for _, l := range []struct{ path, v string }{{"demand.region_label", d.RegionLabel}, {"demand.geo_label", d.GeoLabel}} {
		if l.v != "" && !labelRE.MatchString(l.v) {
			c.add(l.path, "%q is not a label name", l.v)
		}
	}
	c.duration("demand.history", d.History)
	c.duration("demand.step", d.Step)
	if d.Step != 0 && d.Step.D().Seconds() < 1 {
		c.add("demand.step", "at least 1s")
	}
}

func (c *checker) detection(d Detection) {
	c.number("detection.threshold", d.Threshold, 0, 0.999, "a ratio between 0 and 1")
	c.duration("detection.window", d.Window)
	c.duration("detection.lookback", d.Lookback)
	c.duration("detection.cooldown", d.Cooldown)
}

func (c *checker) planning(p Planning) {
	c.number("planning.target_utilization", p.TargetUtilization, 0, 1, "a utilisation between 0 and 1")
	c.number("planning.headroom", p.Headroom, 0, 10, "a fraction between 0 and 10")
	if p.Increments < 0 || p.Increments > 100 {
		c.add("planning.increments", "%d: want 1 to 100", p.Increments)
	}
	for _, d := range []struct {
		path string
		v    Duration
	}{{"horizon", p.Horizon}, {"poll_interval", p.PollInterval}, {"health_interval", p.HealthInterval},
		{"warm_hold", p.WarmHold}, {"cold_hold", p.ColdHold}, {"ready_timeout", p.ReadyTimeout},
		{"health_timeout", p.HealthTimeout}, {"dark_horizon", p.DarkHorizon}} {
		c.duration("planning."+d.path, d.v)
	}
}

func (c *checker) provider(p Provider) {
	switch p.Type {
	case "", "simulator", "webhook":
	default:
		c.add("provider.type", "%q: want simulator or webhook", p.Type)
	}
	if p.Type == "webhook" && p.Webhook == nil {
		c.add("provider.webhook", "required for the webhook provider")
	}
	if w := p.Webhook; w != nil {
		u, err := url.Parse(w.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			c.add("provider.webhook.url", "%q: want an http:// or https:// URL", w.URL)
		}
		if w.SecretEnv != "" && !envRE.MatchString(w.SecretEnv) {
			c.add("provider.webhook.secret_env", "%q is not an environment variable name", w.SecretEnv)
		}
		c.duration("provider.webhook.timeout", w.Timeout)
	}
	if s := p.Simulator; s != nil {
		c.simulator(*s)
	}
}

func (c *checker) simulator(s Simulator) {
	const p = "provider.simulator."
	for _, r := range []struct {
		name string
		v    float64
	}{{"startup_jitter", s.StartupJitter}, {"launch_failure_rate", s.LaunchFailureRate},
		{"call_error_rate", s.CallErrorRate}, {"slow_call_rate", s.SlowCallRate}, {"cold_capacity", s.ColdCapacity}} {
		c.number(p+r.name, r.v, 0, 1, "a fraction between 0 and 1")
	}
	if s.LaunchFailureRate > 0.9 {
		c.add(p+"launch_failure_rate", "%v: at most 0.9, or nothing would ever start", s.LaunchFailureRate)
	}
	for _, d := range []struct {
		name string
		v    Duration
	}{{"provision_min", s.ProvisionMin}, {"provision_max", s.ProvisionMax}, {"startup_max", s.StartupMax},
		{"ungate_min", s.UngateMin}, {"ungate_max", s.UngateMax}, {"edge_propagation", s.EdgePropagation},
		{"dns_propagation", s.DNSPropagation}, {"warmup", s.Warmup}, {"slow_call", s.SlowCall}} {
		c.duration(p+d.name, d.v)
	}
	if s.RegionInstanceLimit < 0 {
		c.add(p+"region_instance_limit", "must not be negative")
	}
}

// Validate checks the simulator's parameters on their own (as an
// exercise's overrides), naming each faulty one.
func (s Simulator) Validate() error {
	c := &checker{}
	c.simulator(s)
	if len(c.problems) > 0 {
		return &Error{Problems: c.problems}
	}
	return nil
}
