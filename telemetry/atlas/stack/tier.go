package stack

import (
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// Tier is Atlas's in-memory tier: the last hours of the series Atlas
// graphs, normalised to Atlas's 1-minute step, kept current by the store
// (it is a tsdb.Observer) and answering the queries that fall in it
// without decoding a chunk.
//
// The tier is demand-driven: it holds a series once a query matching it
// was admitted (Request, Admit) and answers a query (Fetch) once all its
// series are warm; series and queries not read for the idle time leave.
// A minute keeps the sum and count of its samples, exactly what the
// store's consolidation computes. docs/atlas.md describes admission,
// restarts and memory.
//
// A Tier answers nothing until Attach; it is safe for concurrent use.
type Tier struct {
	window    int64 // ms
	nring     int   // blocks per series: hours of the window, the current and a future one
	now       func() time.Time
	idle      int64 // ms a series and a query stay unread before they are dropped
	maxSeries int
	log       *slog.Logger

	floorHour atomic.Int64 // blocks before this hour are dropped
	ready     atomic.Bool  // attached to a store

	// mark is the current admission generation: a series the tier does
	// not hold keeps it in its slot, so that its samples are ignored at
	// the cost of one comparison until the next admission.
	mark      atomic.Pointer[tierMark]
	nSeries   atomic.Int64 // series registered
	unwarmed  atomic.Int64 // registered series not warm yet
	fromTier  atomic.Int64 // fetches answered by the tier
	fromStore atomic.Int64 // tier-eligible fetches answered by the store
	refused   atomic.Int64 // admissions refused for MaxSeries

	attachMu sync.Mutex // guards db; held across SetObserver
	db       *tsdb.DB

	// fetchMu is held shared by fetches and exclusively by idle eviction,
	// so that a fetch never reads a series being dropped.
	fetchMu sync.RWMutex

	mu       sync.RWMutex // guards the registry and the queries below
	byKey    map[string]*tierSeries
	all      []*tierSeries // sorted by labels unless unsorted[""]
	byName   map[string][]*tierSeries
	unsorted map[string]bool // lists with series added since sorted: names, "" for all
	gen      int64           // of mark
	queries  map[string]*tierQuery
	byGen    []*tierQuery     // the queries by generation, ascending
	requests map[string]Query // queries to admit
	refusals map[string]int64 // refused queries: when they may be tried again (ms)
	pending  []*tierSeries    // admitted at ingest, to warm

	backMu sync.Mutex
	back   []backfillRange // backfilled ranges to read again from the store
	wake   chan struct{}
}

// tierMark is an admission generation of a tier.
type tierMark struct {
	tier *Tier
	gen  int64
}

// tierQuery is an admitted query: every series of the store that matches
// it is in the tier, or joins it with its first sample.
type tierQuery struct {
	q     Query
	key   string
	gen   int64
	ready atomic.Bool  // its series are warm
	used  atomic.Int64 // last fetch, ms
}

// DefaultTierMaxSeries bounds the series a tier holds unless
// TierOptions.MaxSeries says otherwise: about 4.4 GB with a 6-hour window.
const DefaultTierMaxSeries = 1_000_000

const (
	// maxRequests bounds the queries waiting for admission.
	maxRequests = 1024
	// refuseRetry is how long a query refused for MaxSeries is not
	// tried again.
	refuseRetry = 10 * time.Minute
)

// TierOptions are a tier's limits.
type TierOptions struct {
	// MaxSeries is the most series the tier holds; a query that would
	// take it over is answered by the store. 0 means DefaultTierMaxSeries.
	MaxSeries int
	// Idle is how long a series or a query stays in the tier without
	// being read by a fetch. 0 means twice the window.
	Idle time.Duration
	// Logger reports refused admissions (slog.Default if nil).
	Logger *slog.Logger
}

// blockMinutes is the span of one block.
const blockMinutes = 60

// minuteMs is Atlas's primary step, the tier's resolution.
const minuteMs = 60_000

// tierBlock is one hour of a series: a slot of the series' ring, which
// holds the header so that a read walks one array and then the sums.
type tierBlock struct {
	hour   int64                  // minute of sums[0] / 60
	sums   *[blockMinutes]float64 // sum of the minute's samples, NaN while it has none; nil: empty slot
	counts *[blockMinutes]uint16  // nil while no minute holds more than one sample
	first  int8                   // first and last minute holding data
	last   int8
}

// tierSeries is one series of the tier.
type tierSeries struct {
	mu sync.Mutex
	// The newest block, its hour and its arrays, and what a sample checks,
	// in the series' first 56 bytes, so that a sample of the current hour
	// reads nothing else unless it starts a minute.
	cur       *tierBlock
	curHour   int64
	curSums   *[blockMinutes]float64
	curCounts *[blockMinutes]uint16
	tier      *Tier
	gone      atomic.Bool // dropped from the registry; set under mu
	warm      bool        // samples go straight to blocks

	ls     tsdb.Labels
	tags   map[string]string
	blocks []tierBlock  // ring indexed by hour modulo len
	late   []lateSample // samples seen before the series was warmed
	readAt int64        // last read by a fetch, or admitted (ms)
}

// lateSample is a sample that arrived while the series waited for Warm.
type lateSample struct {
	t int64
	v float64
}

// backfillRange is a range of a series to read again from the store.
type backfillRange struct {
	ls         tsdb.Labels
	mint, maxt int64
}

// NewTier returns an empty tier that keeps at least window of data (whole
// hours; it holds up to an hour more) for the series admitted to it, with
// the default TierOptions. now is the clock (time.Now if nil).
func NewTier(window time.Duration, now func() time.Time) *Tier {
	if now == nil {
		now = time.Now
	}
	hours := int((window + time.Hour - 1) / time.Hour)
	t := &Tier{window: window.Milliseconds(), nring: hours + 3, now: now,
		byKey: map[string]*tierSeries{}, byName: map[string][]*tierSeries{}, unsorted: map[string]bool{},
		queries: map[string]*tierQuery{}, requests: map[string]Query{}, refusals: map[string]int64{},
		wake: make(chan struct{}, 1)}
	t.SetOptions(TierOptions{})
	t.mark.Store(&tierMark{tier: t})
	t.floorHour.Store(t.clockHour())
	return t
}

// SetOptions sets the tier's limits; call it before Attach.
func (t *Tier) SetOptions(o TierOptions) {
	if o.MaxSeries <= 0 {
		o.MaxSeries = DefaultTierMaxSeries
	}
	if o.Idle <= 0 {
		o.Idle = 2 * time.Duration(t.window) * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	t.maxSeries, t.idle, t.log = o.MaxSeries, o.Idle.Milliseconds(), o.Logger
}

// clockHour is the hour the window starts in by the clock.
func (t *Tier) clockHour() int64 {
	return floorDiv(floorDiv(t.now().UnixMilli()-t.window, minuteMs), blockMinutes)
}

// Window returns the span the tier keeps.
func (t *Tier) Window() time.Duration { return time.Duration(t.window) * time.Millisecond }

// Ready reports whether the tier is attached to a store, so that it
// answers the queries admitted to it.
func (t *Tier) Ready() bool { return t.ready.Load() }

// Start returns the first time (ms) the tier holds in full.
func (t *Tier) Start() int64 { return t.floorHour.Load() * blockMinutes * minuteMs }

// advance moves the window's start to the clock; it never goes back.
func (t *Tier) advance() int64 {
	h := t.clockHour()
	for {
		cur := t.floorHour.Load()
		if h <= cur || t.floorHour.CompareAndSwap(cur, h) {
			return max(h, cur)
		}
	}
}

// Covers reports whether a fetch of [start, end) at step is the tier's
// to answer once its query is admitted: the tier is attached, the step is
// whole minutes, start is a multiple of it, and the range lies in the
// window (up to the hour after the clock's).
func (t *Tier) Covers(start, end, step int64) bool {
	if !t.Ready() || step <= 0 || step%minuteMs != 0 || start%step != 0 || end <= start {
		return false
	}
	fh := t.floorHour.Load()
	lastHour := fh + int64(t.nring) - 2
	return start >= fh*blockMinutes*minuteMs && end <= (lastHour+1)*blockMinutes*minuteMs
}

// ObserveSample implements tsdb.Observer: the store calls it, under the
// series' lock, for every sample it stores in its head. A series the tier
// does not hold returns at the first comparison, unless a query was
// admitted since its last sample.
func (t *Tier) ObserveSample(state *any, series tsdb.LabelSource, ts int64, v float64) {
	var s *tierSeries
	switch x := (*state).(type) {
	case *tierMark:
		if x == t.mark.Load() {
			return
		}
		gen := x.gen
		if x.tier != t {
			gen = 0
		}
		if s = t.resolve(state, series.LabelSet(), gen); s == nil {
			return
		}
	case *tierSeries:
		s = x
		if s.tier != t {
			if s = t.resolve(state, series.LabelSet(), 0); s == nil {
				return
			}
		}
	default:
		if s = t.resolve(state, series.LabelSet(), 0); s == nil {
			return
		}
	}
	if v != v { // NaN, stale markers included: the store's consolidation skips them
		return
	}
	fh := t.floorHour.Load()
	hour := floorDiv(floorDiv(ts, minuteMs), blockMinutes)
	if hour < fh || hour > fh+int64(t.nring)-1 {
		return
	}
	s.mu.Lock()
	if s.gone.Load() {
		s.mu.Unlock()
		if s = t.resolve(state, series.LabelSet(), 0); s == nil {
			return
		}
		s.mu.Lock()
	}
	if s.warm {
		s.add(ts, v, fh)
	} else {
		s.late = append(s.late, lateSample{ts, v})
	}
	s.mu.Unlock()
}

// resolve finds the tier's series for ls after the admissions since
// generation gen, admitting it if it matches a query admitted since, and
// keeps the answer in state: the series, or the current mark.
func (t *Tier) resolve(state *any, ls tsdb.Labels, gen int64) *tierSeries {
	t.mu.RLock()
	m := t.mark.Load()
	var s *tierSeries
	if t.nSeries.Load() > 0 {
		if s = t.byKey[ls.String()]; s != nil && s.gone.Load() {
			s = nil
		}
	}
	match := false
	if s == nil && len(t.byGen) > 0 && t.byGen[len(t.byGen)-1].gen > gen {
		tags := atlasTags(ls)
		for i := len(t.byGen) - 1; i >= 0 && t.byGen[i].gen > gen && !match; i-- {
			match = t.byGen[i].q.Matches(tags)
		}
	}
	t.mu.RUnlock()
	if s == nil && match {
		s = t.admitSeries(ls)
	}
	if s == nil {
		*state = m
		return nil
	}
	*state = s
	return s
}

// admitSeries registers a series that matches an admitted query, to be
// warmed by Run; over MaxSeries it drops the queries it matches instead,
// which the store then answers.
func (t *Tier) admitSeries(ls tsdb.Labels) *tierSeries {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s := t.byKey[ls.String()]; s != nil && !s.gone.Load() {
		return s
	}
	if int(t.nSeries.Load()) >= t.maxSeries {
		tags := atlasTags(ls)
		for _, q := range t.byGen {
			if q.q.Matches(tags) {
				t.dropQueryLocked(q)
				t.refusals[q.key] = t.now().UnixMilli() + refuseRetry.Milliseconds()
				t.refused.Add(1)
			}
		}
		return nil
	}
	s := t.registerLocked(ls, false)
	t.pending = append(t.pending, s)
	t.poke()
	return s
}

// poke wakes Run.
func (t *Tier) poke() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// ObserveBackfill implements tsdb.Observer: the range is read again from
// the store by Run, since the store resolves backfilled duplicates only
// when it writes them.
func (t *Tier) ObserveBackfill(ls tsdb.Labels, mint, maxt int64) {
	if maxt < t.Start() {
		return
	}
	t.backMu.Lock()
	t.back = append(t.back, backfillRange{ls: cloneLabels(ls), mint: mint, maxt: maxt})
	t.backMu.Unlock()
	t.poke()
}

// registerLocked creates the series with labels ls, which the registry
// does not hold; the caller holds t.mu.
func (t *Tier) registerLocked(ls tsdb.Labels, warm bool) *tierSeries {
	key := ls.String()
	ls = cloneLabels(ls)
	s := &tierSeries{tier: t, ls: ls, tags: atlasTags(ls), blocks: make([]tierBlock, t.nring), warm: warm,
		readAt: t.now().UnixMilli()}
	t.byKey[key] = s
	t.all = append(t.all, s)
	name := s.tags["name"]
	t.byName[name] = append(t.byName[name], s)
	t.unsorted[""], t.unsorted[name] = true, true
	t.nSeries.Add(1)
	if !warm {
		t.unwarmed.Add(1)
	}
	return s
}

// lookup returns the series with labels ls, nil if the tier does not hold
// it.
func (t *Tier) lookup(ls tsdb.Labels) *tierSeries {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if s := t.byKey[ls.String()]; s != nil && !s.gone.Load() {
		return s
	}
	return nil
}

// cloneLabels copies labels that may point into a block's memory.
func cloneLabels(ls tsdb.Labels) tsdb.Labels {
	out := make(tsdb.Labels, len(ls))
	for i, l := range ls {
		out[i] = tsdb.Label{Name: strings.Clone(l.Name), Value: strings.Clone(l.Value)}
	}
	return out
}

// add folds a sample in; the caller holds s.mu. Samples before the hour
// fh or older than the ring are dropped.
func (s *tierSeries) add(ts int64, v float64, fh int64) {
	if v != v {
		return
	}
	m := floorDiv(ts, minuteMs)
	hour := floorDiv(m, blockMinutes)
	j := int8(m - hour*blockMinutes)
	if v == 0 {
		v = 0 // the store's sum starts at +0: -0 becomes +0
	}
	b := s.cur
	if b != nil && s.curHour == hour {
		if c := s.curCounts; c != nil && c[j] > 0 { // another sample in the minute
			s.curSums[j] += v
			c[j]++
			return
		}
		b.put(j, v)
		s.curCounts = b.counts
		return
	}
	n := int64(len(s.blocks))
	if hour < fh || hour > fh+n-1 {
		return
	}
	b = &s.blocks[hour%n]
	switch {
	case b.sums == nil || b.hour < hour:
		b.reset(hour)
	case b.hour > hour:
		return
	}
	b.put(j, v)
	if s.cur == nil || hour > s.curHour {
		s.cur, s.curHour = b, hour
	}
	if b == s.cur {
		s.curSums, s.curCounts = b.sums, b.counts
	}
}

// put adds v to minute j.
func (b *tierBlock) put(j int8, v float64) {
	if b.sums[j] != b.sums[j] && (b.counts == nil || b.counts[j] == 0) {
		b.sums[j] = v
		if b.counts != nil {
			b.counts[j] = 1
		}
		if b.first < 0 || j < b.first {
			b.first = j
		}
		b.last = max(b.last, j)
		return
	}
	if b.counts == nil {
		b.counts = new([blockMinutes]uint16)
		for k, x := range b.sums {
			if x == x {
				b.counts[k] = 1
			}
		}
	}
	b.sums[j] += v
	b.counts[j]++
}

// reset empties the slot for the hour, reusing its sums.
func (b *tierBlock) reset(hour int64) {
	if b.sums == nil {
		b.sums = new([blockMinutes]float64)
	}
	for k := range b.sums {
		b.sums[k] = math.NaN()
	}
	b.hour, b.counts, b.first, b.last = hour, nil, -1, -1
}

// at returns the sum and count of minute j.
func (b *tierBlock) at(j int) (float64, float64) {
	if b.counts == nil {
		if s := b.sums[j]; s == s {
			return s, 1
		}
		return 0, 0
	}
	if c := b.counts[j]; c > 0 {
		return b.sums[j], float64(c)
	}
	return 0, 0
}

// evict drops blocks before the hour fh and reports whether the series
// holds no block now; the caller holds s.mu.
func (s *tierSeries) evict(fh int64) bool {
	empty := true
	for i := range s.blocks {
		b := &s.blocks[i]
		if b.sums != nil && b.hour < fh {
			*b = tierBlock{}
		} else if b.sums != nil {
			empty = false
		}
	}
	if s.cur != nil && s.curHour < fh {
		s.cur, s.curSums, s.curCounts = nil, nil, nil
	}
	return empty
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
