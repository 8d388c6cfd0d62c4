package main

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
)

// table sums the times of the cases by a key (method or cost) and keeps
// the per-case speed-ups.
type table struct {
	key  string
	rows map[string]*row
	all  []float64
}

type row struct {
	ratios           []float64
	gaffer, ruptures float64
}

func newTable(key string) *table { return &table{key: key, rows: map[string]*row{}} }

// add records one case: ruptures' seconds and Gaffer's. Cases whose
// ruptures time was rounded to zero count in the totals only.
func (t *table) add(k string, ruptures, gaffer float64) {
	r := t.rows[k]
	if r == nil {
		r = &row{}
		t.rows[k] = r
	}
	r.ruptures += ruptures
	r.gaffer += gaffer
	if ruptures > 0 {
		r.ratios = append(r.ratios, ruptures/gaffer)
		t.all = append(t.all, ruptures/gaffer)
	}
}

// print writes one line per key, sorted, and with total a line for all.
func (t *table) print(w io.Writer, total bool) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\tcases\truptures total s\tgaffer total s\ttotal speed-up\tmedian per-case\tmin per-case\n", t.key)
	keys := make([]string, 0, len(t.rows))
	for k := range t.rows {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		r := t.rows[k]
		if len(r.ratios) == 0 {
			continue
		}
		slices.Sort(r.ratios)
		fmt.Fprintf(tw, "%s\t%d\t%.4f\t%.6f\t%.0fx\t%.0fx\t%.1fx\n", k, len(r.ratios), r.ruptures, r.gaffer,
			r.ruptures/r.gaffer, r.ratios[len(r.ratios)/2], r.ratios[0])
	}
	if total && len(t.all) > 0 {
		slices.Sort(t.all)
		fmt.Fprintf(tw, "all\t%d\t\t\t\t%.0fx\t%.1fx\n", len(t.all), t.all[len(t.all)/2], t.all[0])
	}
	tw.Flush()
}
