package metrics

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/otlptranslator"
	"github.com/prometheus/prometheus/model/value"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/gaffer-sre/gaffer/telemetry/prom"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// otlpConversion is what converting one OTLP request gave.
type otlpConversion struct {
	Series []prom.TimeSeries
	// Rejected counts data points not converted, and Reasons says why
	// (one line per metric), for OTLP's partial success answer.
	Rejected int64
	Reasons  []string
}

// targetInfoInterval is the spacing of target_info samples over a
// resource's data points: half the default lookback, as Prometheus 3
// writes them, so that a join with target_info finds one at every step.
const targetInfoInterval = 150 * time.Second

// convertOTLP turns OTLP metrics into series named as Prometheus 3's OTLP
// receiver names them under its default translation strategy
// (UnderscoreEscapingWithSuffixes): metric names get unit and _total
// suffixes, attribute names are escaped to label names, service.name
// (with service.namespace) becomes job and service.instance.id instance,
// and the other resource attributes go to target_info. Histograms
// become classic _bucket/_sum/_count series, summaries quantile series.
// Exponential histograms (native histograms here) and delta sums are
// rejected, as Prometheus does by default.
func convertOTLP(md pmetric.Metrics) otlpConversion {
	var c otlpConverter
	c.metricNamer = otlptranslator.MetricNamer{WithMetricSuffixes: true}
	c.labelNamer = otlptranslator.LabelNamer{}
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		c.resource(rms.At(i))
	}
	return c.out
}

type otlpConverter struct {
	metricNamer otlptranslator.MetricNamer
	labelNamer  otlptranslator.LabelNamer
	out         otlpConversion
	job, inst   string
	seenTarget  map[string]bool // target_info series+timestamp already written
}

func (c *otlpConverter) reject(n int, metric, why string) {
	c.out.Rejected += int64(n)
	c.out.Reasons = append(c.out.Reasons, fmt.Sprintf("%s: %s", metric, why))
}

func (c *otlpConverter) resource(rm pmetric.ResourceMetrics) {
	attrs := rm.Resource().Attributes()
	c.job, c.inst = "", ""
	if v, ok := attrs.Get("service.name"); ok {
		c.job = v.AsString()
		if ns, ok := attrs.Get("service.namespace"); ok && ns.AsString() != "" {
			c.job = ns.AsString() + "/" + c.job
		}
	}
	if v, ok := attrs.Get("service.instance.id"); ok {
		c.inst = v.AsString()
	}
	earliest, latest := int64(math.MaxInt64), int64(math.MinInt64)
	sms := rm.ScopeMetrics()
	for i := 0; i < sms.Len(); i++ {
		ms := sms.At(i).Metrics()
		for j := 0; j < ms.Len(); j++ {
			lo, hi := c.metric(ms.At(j))
			earliest, latest = min(earliest, lo), max(latest, hi)
		}
	}
	if earliest <= latest {
		c.targetInfo(attrs, earliest, latest)
	}
}

// labels builds a series' labels: the data point's attributes escaped
// (values of names that escape alike joined with ";", in key order),
// then job and instance, then the extra pairs.
func (c *otlpConverter) labels(name string, attrs pcommon.Map, skip map[string]bool, extra ...string) (tsdb.Labels, error) {
	keys := make([]string, 0, attrs.Len())
	attrs.Range(func(k string, _ pcommon.Value) bool {
		if !skip[k] {
			keys = append(keys, k)
		}
		return true
	})
	sort.Strings(keys)
	m := make(map[string]string, len(keys)+4)
	for _, k := range keys {
		ln, err := c.labelNamer.Build(k)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", k, err)
		}
		v, _ := attrs.Get(k)
		if old, ok := m[ln]; ok {
			m[ln] = old + ";" + v.AsString()
		} else {
			m[ln] = v.AsString()
		}
	}
	if c.job != "" {
		m["job"] = c.job
	}
	if c.inst != "" {
		m["instance"] = c.inst
	}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	m[tsdb.MetricName] = name
	ls := make(tsdb.Labels, 0, len(m))
	for k, v := range m {
		if v != "" {
			ls = append(ls, tsdb.Label{Name: k, Value: v})
		}
	}
	sort.Sort(ls)
	return ls, nil
}

func (c *otlpConverter) add(ls tsdb.Labels, t int64, v float64) {
	c.out.Series = append(c.out.Series, prom.TimeSeries{Labels: ls, Samples: []prom.Sample{{Timestamp: t, Value: v}}})
}

func otlpMillis(ts pcommon.Timestamp) int64 { return int64(ts) / 1e6 }

// metricType is the translator's type of m.
func metricType(m pmetric.Metric) otlptranslator.MetricType {
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		return otlptranslator.MetricTypeGauge
	case pmetric.MetricTypeSum:
		if m.Sum().IsMonotonic() {
			return otlptranslator.MetricTypeMonotonicCounter
		}
		return otlptranslator.MetricTypeNonMonotonicCounter
	case pmetric.MetricTypeHistogram:
		return otlptranslator.MetricTypeHistogram
	case pmetric.MetricTypeSummary:
		return otlptranslator.MetricTypeSummary
	case pmetric.MetricTypeExponentialHistogram:
		return otlptranslator.MetricTypeExponentialHistogram
	}
	return otlptranslator.MetricTypeUnknown
}

// metric converts one metric and returns the range of its timestamps.
func (c *otlpConverter) metric(m pmetric.Metric) (lo, hi int64) {
	lo, hi = math.MaxInt64, math.MinInt64
	seen := func(t int64) { lo, hi = min(lo, t), max(hi, t) }
	name, err := c.metricNamer.Build(otlptranslator.Metric{Name: m.Name(), Unit: m.Unit(), Type: metricType(m)})
	if err != nil || name == "" {
		c.reject(dataPoints(m), m.Name(), fmt.Sprintf("no valid metric name: %v", err))
		return lo, hi
	}
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		c.numbers(name, m.Gauge().DataPoints(), seen)
	case pmetric.MetricTypeSum:
		if m.Sum().AggregationTemporality() != pmetric.AggregationTemporalityCumulative {
			c.reject(m.Sum().DataPoints().Len(), m.Name(), "only cumulative sums are stored (delta temporality refused, as by Prometheus)")
			return lo, hi
		}
		c.numbers(name, m.Sum().DataPoints(), seen)
	case pmetric.MetricTypeHistogram:
		if m.Histogram().AggregationTemporality() != pmetric.AggregationTemporalityCumulative {
			c.reject(m.Histogram().DataPoints().Len(), m.Name(), "only cumulative histograms are stored (delta temporality refused, as by Prometheus)")
			return lo, hi
		}
		c.histograms(name, m.Histogram().DataPoints(), seen)
	case pmetric.MetricTypeSummary:
		c.summaries(name, m.Summary().DataPoints(), seen)
	case pmetric.MetricTypeExponentialHistogram:
		c.reject(m.ExponentialHistogram().DataPoints().Len(), m.Name(), "exponential histograms (native histograms) are not stored")
	default:
		c.reject(0, m.Name(), "metric without a type")
	}
	return lo, hi
}

func dataPoints(m pmetric.Metric) int {
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		return m.Gauge().DataPoints().Len()
	case pmetric.MetricTypeSum:
		return m.Sum().DataPoints().Len()
	case pmetric.MetricTypeHistogram:
		return m.Histogram().DataPoints().Len()
	case pmetric.MetricTypeSummary:
		return m.Summary().DataPoints().Len()
	case pmetric.MetricTypeExponentialHistogram:
		return m.ExponentialHistogram().DataPoints().Len()
	}
	return 0
}

// stale returns the value to store: Prometheus's stale marker for a point
// flagged as having no recorded value.
func stale(flags pmetric.DataPointFlags, v float64) float64 {
	if flags.NoRecordedValue() {
		return math.Float64frombits(value.StaleNaN)
	}
	return v
}

func (c *otlpConverter) numbers(name string, dps pmetric.NumberDataPointSlice, seen func(int64)) {
	for i := 0; i < dps.Len(); i++ {
		dp := dps.At(i)
		ls, err := c.labels(name, dp.Attributes(), nil)
		if err != nil {
			c.reject(1, name, err.Error())
			continue
		}
		v := dp.DoubleValue()
		if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
			v = float64(dp.IntValue())
		}
		t := otlpMillis(dp.Timestamp())
		c.add(ls, t, stale(dp.Flags(), v))
		seen(t)
	}
}

func (c *otlpConverter) histograms(name string, dps pmetric.HistogramDataPointSlice, seen func(int64)) {
	for i := 0; i < dps.Len(); i++ {
		dp := dps.At(i)
		t := otlpMillis(dp.Timestamp())
		flags := dp.Flags()
		add := func(suffix string, v float64, extra ...string) bool {
			ls, err := c.labels(name+suffix, dp.Attributes(), nil, extra...)
			if err != nil {
				c.reject(1, name, err.Error())
				return false
			}
			c.add(ls, t, stale(flags, v))
			return true
		}
		if dp.HasSum() && !add("_sum", dp.Sum()) {
			continue
		}
		if !add("_count", float64(dp.Count())) {
			continue
		}
		bounds, counts := dp.ExplicitBounds(), dp.BucketCounts()
		var cum uint64
		for j := 0; j < bounds.Len() && j < counts.Len(); j++ {
			cum += counts.At(j)
			add("_bucket", float64(cum), "le", prom.FormatLe(bounds.At(j)))
		}
		add("_bucket", float64(dp.Count()), "le", "+Inf")
		seen(t)
	}
}

func (c *otlpConverter) summaries(name string, dps pmetric.SummaryDataPointSlice, seen func(int64)) {
	for i := 0; i < dps.Len(); i++ {
		dp := dps.At(i)
		t := otlpMillis(dp.Timestamp())
		add := func(n string, v float64, extra ...string) {
			ls, err := c.labels(n, dp.Attributes(), nil, extra...)
			if err != nil {
				c.reject(1, name, err.Error())
				return
			}
			c.add(ls, t, stale(dp.Flags(), v))
		}
		add(name+"_sum", dp.Sum())
		add(name+"_count", float64(dp.Count()))
		qs := dp.QuantileValues()
		for j := 0; j < qs.Len(); j++ {
			add(name, qs.At(j).Value(), "quantile", strconv.FormatFloat(qs.At(j).Quantile(), 'f', -1, 64))
		}
		seen(t)
	}
}

// identifying are the resource attributes that become job and instance.
var identifying = map[string]bool{"service.name": true, "service.namespace": true, "service.instance.id": true}

// targetInfo writes target_info{job, instance, other resource attributes}
// = 1 from the resource's first data point to its last, every
// targetInfoInterval and at the last, when the resource has attributes
// besides the identifying ones and a job or instance.
func (c *otlpConverter) targetInfo(attrs pcommon.Map, from, to int64) {
	others := 0
	attrs.Range(func(k string, _ pcommon.Value) bool {
		if !identifying[k] {
			others++
		}
		return true
	})
	if others == 0 || c.job == "" && c.inst == "" {
		return
	}
	ls, err := c.labels("target_info", attrs, identifying)
	if err != nil {
		c.reject(0, "target_info", err.Error())
		return
	}
	if c.seenTarget == nil {
		c.seenTarget = map[string]bool{}
	}
	key := ls.String()
	emit := func(t int64) {
		k := key + "@" + strconv.FormatInt(t, 10)
		if !c.seenTarget[k] {
			c.seenTarget[k] = true
			c.add(ls, t, 1)
		}
	}
	for t := from; t < to; t += targetInfoInterval.Milliseconds() {
		emit(t)
	}
	emit(to)
}

// otlpReasons joins the reasons for OTLP's partial success message.
func otlpReasons(rs []string) string {
	if len(rs) > 5 {
		rs = append(rs[:5:5], fmt.Sprintf("and %d more", len(rs)-5))
	}
	return strings.Join(rs, "; ")
}
