package atlas

import (
	"context"
	"errors"
	"fmt"

	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

// DemoGraphs are the saved graphs of `gaffer serve --demo`, over the
// metrics system's demo (Prometheus-style counters scraped each minute
// by job, region and instance): counters become per-second rates with
// :derivative (per minute) and a division by 60, resets clamped away.
var DemoGraphs = []CreateGraphRequest{
	{Name: "Requests per second by job", Query: "name,http_requests_total,:eq,(,job,),:by,:derivative,0,:clamp-min,60,:div,$job,:legend,:stack",
		Params: "ylabel=requests%2Fs"},
	{Name: "Error ratio by region", Query: "name,http_requests_total,:eq,code,500,:eq,:and,(,region,),:by,:derivative,0,:clamp-min," +
		"name,http_requests_total,:eq,(,region,),:by,:derivative,0,:clamp-min,:div,100,:mul,$region,:legend",
		Params: "ylabel=%25+errors"},
	{Name: "Mean latency by job", Query: "name,http_request_duration_seconds_sum,:eq,(,job,),:by,:derivative,0,:clamp-min," +
		"name,http_request_duration_seconds_count,:eq,(,job,),:by,:derivative,0,:clamp-min,:div,$job,:legend",
		Params: "ylabel=seconds"},
	{Name: "Resident memory, top 5 instances", Query: "name,process_resident_memory_bytes,:eq,(,instance,),:by,max,5,:topk,$instance,:legend",
		Params: "ylabel=bytes"},
	{Name: "Traffic with DES bounds (api)", Query: "name,http_requests_total,:eq,job,api,:eq,:and,:sum,:derivative,0,:clamp-min,60,:div,:dup," +
		"requests,:legend,:swap,:des-slow,predicted,:legend", Params: "s=e-1d"},
}

// DemoDashboard groups the demo graphs.
const DemoDashboard = "Service overview"

// LoadDemo saves the demo graphs and dashboard; it is idempotent.
func (s *Service) LoadDemo(ctx context.Context) error {
	existing, err := s.listGraphs(ctx)
	if err != nil {
		return err
	}
	ids := map[string]int64{}
	for _, g := range existing {
		ids[g.Name] = g.ID
	}
	var order []int64
	for _, req := range DemoGraphs {
		id, ok := ids[req.Name]
		if !ok {
			g, err := s.CreateGraph(ctx, req, "demo")
			if err != nil {
				return fmt.Errorf("atlas demo graph %q: %w", req.Name, err)
			}
			id = g.ID
		}
		order = append(order, id)
	}
	_, err = s.CreateDashboard(ctx, CreateDashboardRequest{Name: DemoDashboard, Start: "e-6h", End: "now", GraphIDs: order}, "demo")
	var he *httpapi.Error
	if errors.As(err, &he) && he.Status == 409 {
		return nil
	}
	return err
}
