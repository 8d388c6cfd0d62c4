package atlas

import (
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// Tier is Atlas's in-memory tier: the last hours of every series of the
// store, normalised to Atlas's 1-minute step, kept current by the store
// (it is a tsdb.Observer) and answering the queries that fall in it
// without decoding a chunk.
//
// A minute holds the sum and the count of the series' samples in
// [t, t+1m), NaN ones left out — exactly what the store's consolidation
// computes — so a step of k minutes is the sum of k sums over the sum of k
// counts, as in TSDBSource. Values are float64 (Atlas stores doubles;
// float32 would change the answers). Minutes are grouped in blocks of an
// hour per series, allocated when the hour gets its first sample; the
// count array of a block exists only once a minute of it holds two
// samples, so a series published once a minute costs 8 bytes a minute.
//
// A Tier is filled by Warm from the store and by ObserveSample as
// samples arrive; until Warm has finished, Ready is false. It is safe for
// concurrent use.
type Tier struct {
	window int64 // ms
	nring  int   // blocks per series: hours of the window, the current and a future one
	now    func() time.Time

	floorHour atomic.Int64 // blocks before this hour are dropped
	ready     atomic.Bool  // Warm has finished

	mu       sync.RWMutex // guards the registry below
	byKey    map[string]*tierSeries
	all      []*tierSeries // sorted by labels unless unsorted[""]
	byName   map[string][]*tierSeries
	unsorted map[string]bool // lists with series added since sorted: names, "" for all
	warmDone bool            // series registered from now on need no warm-up

	backMu sync.Mutex
	back   []backfillRange // backfilled ranges to read again from the store
	wake   chan struct{}
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
	// The newest block, its hour and its arrays, in the series' first
	// cache line, so that a sample of the current hour reads nothing else
	// unless it starts a minute.
	cur       *tierBlock
	curHour   int64
	curSums   *[blockMinutes]float64
	curCounts *[blockMinutes]uint16

	tier   *Tier
	ls     tsdb.Labels
	tags   map[string]string
	blocks []tierBlock  // ring indexed by hour modulo len
	warm   bool         // samples go straight to blocks
	late   []lateSample // samples seen before the series was warmed
	gone   bool         // dropped from the registry: register again
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
// hours; it holds up to an hour more). now is the clock (time.Now if
// nil).
func NewTier(window time.Duration, now func() time.Time) *Tier {
	if now == nil {
		now = time.Now
	}
	hours := int((window + time.Hour - 1) / time.Hour)
	t := &Tier{window: window.Milliseconds(), nring: hours + 3, now: now,
		byKey: map[string]*tierSeries{}, byName: map[string][]*tierSeries{}, unsorted: map[string]bool{},
		wake: make(chan struct{}, 1)}
	t.floorHour.Store(t.clockHour())
	return t
}

// clockHour is the hour the window starts in by the clock.
func (t *Tier) clockHour() int64 {
	return floorDiv(floorDiv(t.now().UnixMilli()-t.window, minuteMs), blockMinutes)
}

// Window returns the span the tier keeps.
func (t *Tier) Window() time.Duration { return time.Duration(t.window) * time.Millisecond }

// Ready reports whether Warm has finished, so that the tier answers.
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

// Covers reports whether the tier answers a fetch of [start, end) at
// step: it is warm, the step is whole minutes, start is a multiple of it,
// and the range lies in the window (up to the hour after the clock's).
func (t *Tier) Covers(start, end, step int64) bool {
	if !t.Ready() || step <= 0 || step%minuteMs != 0 || start%step != 0 || end <= start {
		return false
	}
	fh := t.floorHour.Load()
	lastHour := fh + int64(t.nring) - 2
	return start >= fh*blockMinutes*minuteMs && end <= (lastHour+1)*blockMinutes*minuteMs
}

// ObserveSample implements tsdb.Observer: the store calls it, under the
// series' lock, for every sample it stores in its head.
func (t *Tier) ObserveSample(state *any, ls tsdb.Labels, ts int64, v float64) {
	if v != v { // NaN, stale markers included: the store's consolidation skips them
		return
	}
	fh := t.floorHour.Load()
	hour := floorDiv(floorDiv(ts, minuteMs), blockMinutes)
	if hour < fh || hour > fh+int64(t.nring)-1 {
		return
	}
	s, _ := (*state).(*tierSeries)
	if s == nil || s.tier != t {
		s = t.register(ls)
		*state = s
	}
	s.mu.Lock()
	if s.gone {
		s.mu.Unlock()
		s = t.register(ls)
		*state = s
		s.mu.Lock()
	}
	if s.warm {
		s.add(ts, v, fh)
	} else {
		s.late = append(s.late, lateSample{ts, v})
	}
	s.mu.Unlock()
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
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// register finds or creates the series with labels ls.
func (t *Tier) register(ls tsdb.Labels) *tierSeries {
	key := ls.String()
	t.mu.RLock()
	s := t.byKey[key]
	t.mu.RUnlock()
	if s != nil && !s.isGone() {
		return s
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if s = t.byKey[key]; s != nil && !s.isGone() {
		return s
	}
	ls = cloneLabels(ls)
	s = &tierSeries{tier: t, ls: ls, tags: atlasTags(ls), blocks: make([]tierBlock, t.nring), warm: t.warmDone}
	t.byKey[key] = s
	t.all = append(t.all, s)
	name := s.tags["name"]
	t.byName[name] = append(t.byName[name], s)
	t.unsorted[""], t.unsorted[name] = true, true
	return s
}

func (s *tierSeries) isGone() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gone
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

// evict drops blocks before the hour fh and reports whether the series is
// now empty; the caller holds s.mu.
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
	return empty && s.warm && len(s.late) == 0
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
