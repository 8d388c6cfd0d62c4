package events

import (
	"context"
	"slices"
	"sort"
	"sync"

	"cel.dev/cel-go/common/types"
)

// Matcher finds the rules whose condition holds for an event. It is built
// once per set of rules and is safe for concurrent use.
//
// Each rule is filed under one of its key sets (see indexOptions): the one
// whose keys fewest other rules share, so that popular keys (every alert
// rule tests type == "gaffer.alerting.firing") give way to selective ones
// (data.service == "checkout"). An event then looks up its value of each
// indexed attribute in a hash map — and, for prefix keys, each distinct
// prefix length — and evaluates only the rules it hit, plus the rules that
// have no indexable condition at all.
type Matcher struct {
	rules   []*compiledRule
	attrs   []*attrIndex
	always  []int32
	scratch sync.Pool
}

type attrIndex struct {
	attr       attrRef
	eq         map[string][]int32
	prefix     map[string][]int32
	prefixLens []int
}

type matchScratch struct {
	stamp []uint32
	gen   uint32
	cand  []int32
}

// IndexStats describes how a Matcher filed its rules.
type IndexStats struct {
	Rules   int `json:"rules"`
	Indexed int `json:"indexed"`
	// Always counts rules evaluated for every event: their conditions have
	// no indexable conjunct.
	Always int `json:"always"`
	// Attributes lists the attributes the index reads.
	Attributes []string `json:"attributes"`
}

// newMatcher builds the index over rules (all of which are enabled).
func newMatcher(rules []*compiledRule) *Matcher {
	m := &Matcher{rules: rules}
	freq := map[flatKey]int{}
	for _, r := range rules {
		for _, ks := range r.options {
			for _, k := range ks {
				freq[keyID(k)]++
			}
		}
	}
	byAttr := map[string]*attrIndex{}
	for i, r := range rules {
		ks, ok := bestGlobal(r.options, freq)
		r.indexedBy = ks
		if !ok {
			m.always = append(m.always, int32(i))
			continue
		}
		for _, k := range ks {
			ai := byAttr[k.attr.key()]
			if ai == nil {
				ai = &attrIndex{attr: k.attr, eq: map[string][]int32{}, prefix: map[string][]int32{}}
				byAttr[k.attr.key()] = ai
				m.attrs = append(m.attrs, ai)
			}
			target := ai.eq
			if k.prefix {
				target = ai.prefix
			}
			if l := target[k.value]; len(l) == 0 || l[len(l)-1] != int32(i) {
				target[k.value] = append(l, int32(i))
			}
		}
	}
	for _, ai := range m.attrs {
		seen := map[int]bool{}
		for p := range ai.prefix {
			if !seen[len(p)] {
				seen[len(p)] = true
				ai.prefixLens = append(ai.prefixLens, len(p))
			}
		}
		sort.Ints(ai.prefixLens)
	}
	sort.Slice(m.attrs, func(i, j int) bool { return m.attrs[i].attr.key() < m.attrs[j].attr.key() })
	m.scratch.New = func() any { return &matchScratch{stamp: make([]uint32, len(rules))} }
	return m
}

// flatKey is an indexKey that can be a map key.
type flatKey struct {
	attr   string
	prefix bool
	value  string
}

func keyID(k indexKey) flatKey {
	return flatKey{attr: k.attr.key(), prefix: k.prefix, value: k.value}
}

// bestGlobal picks the key set whose keys are shared by the fewest rules
// (prefix keys count double: they cost a lookup per prefix length).
func bestGlobal(opts []keySet, freq map[flatKey]int) (keySet, bool) {
	var best keySet
	bestCost := -1
	for _, ks := range opts {
		cost := 0
		for _, k := range ks {
			c := freq[keyID(k)]
			if k.prefix {
				c *= 2
			}
			cost += c
		}
		if bestCost < 0 || cost < bestCost {
			best, bestCost = ks, cost
		}
	}
	return best, bestCost >= 0
}

// Stats reports how the rules were indexed.
func (m *Matcher) Stats() IndexStats {
	s := IndexStats{Rules: len(m.rules), Always: len(m.always), Indexed: len(m.rules) - len(m.always),
		Attributes: []string{}}
	for _, ai := range m.attrs {
		s.Attributes = append(s.Attributes, ai.attr.String())
	}
	return s
}

// candidates appends to dst the rules the event hits in the index.
func (m *Matcher) candidates(act *activation, sc *matchScratch) []int32 {
	sc.gen++
	if sc.gen == 0 {
		clear(sc.stamp)
		sc.gen = 1
	}
	dst := sc.cand[:0]
	add := func(ids []int32) {
		for _, id := range ids {
			if sc.stamp[id] != sc.gen {
				sc.stamp[id] = sc.gen
				dst = append(dst, id)
			}
		}
	}
	for _, ai := range m.attrs {
		v, ok := ai.attr.stringValue(act)
		if !ok {
			continue
		}
		if ids, ok := ai.eq[v]; ok {
			add(ids)
		}
		for _, n := range ai.prefixLens {
			if n > len(v) {
				break
			}
			if ids, ok := ai.prefix[v[:n]]; ok {
				add(ids)
			}
		}
	}
	add(m.always)
	sc.cand = dst
	return dst
}

// Match appends to dst the rules whose condition is true for the event in
// act, in the order the rules were given. A condition that fails to
// evaluate (a missing field, a type mismatch, the cost limit) does not
// match; the rule counts the error.
func (m *Matcher) Match(act *activation, dst []*compiledRule) []*compiledRule {
	if len(m.rules) == 0 {
		return dst
	}
	sc := m.scratch.Get().(*matchScratch)
	ids := m.candidates(act, sc)
	if len(ids) > 1 {
		slices.Sort(ids)
	}
	for _, id := range ids {
		r := m.rules[id]
		out, err := r.cond.prg.Eval(context.Background(), act)
		if err != nil {
			r.stats.evalError(err)
			continue
		}
		if out == types.True {
			dst = append(dst, r)
		}
	}
	m.scratch.Put(sc)
	return dst
}
