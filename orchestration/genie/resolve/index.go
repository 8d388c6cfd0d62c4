package resolve

import (
	"fmt"
	"slices"
)

// posting lists the positions of the resources with one tag, name,
// version or status, in order; a long list also has a bitset, so that
// intersecting it costs one probe per position.
type posting struct {
	ids  []int32
	bits []uint64
}

func (p *posting) has(i int32) bool {
	if p.bits != nil {
		return p.bits[i>>6]&(1<<(uint(i)&63)) != 0
	}
	_, found := slices.BinarySearch(p.ids, i)
	return found
}

// table indexes one kind of resource by id and by posting lists per tag,
// name, version and status.
type table struct {
	res      []*Resource
	byID     map[string]int32
	tags     map[string]*posting
	names    map[string]*posting
	versions map[string]*posting
	statuses map[string]*posting
}

func newTable(kind string, res []*Resource) (*table, error) {
	t := &table{res: res, byID: make(map[string]int32, len(res)), tags: map[string]*posting{}, names: map[string]*posting{},
		versions: map[string]*posting{}, statuses: map[string]*posting{}}
	add := func(m map[string]*posting, key string, p int32) {
		if m[key] == nil {
			m[key] = &posting{}
		}
		m[key].ids = append(m[key].ids, p)
	}
	for i, r := range res {
		if _, dup := t.byID[r.ID]; dup {
			return nil, fmt.Errorf("%s %q: indexed twice", kind, r.ID)
		}
		p := int32(i)
		t.byID[r.ID] = p
		for _, tag := range normTags(r.Tags) {
			add(t.tags, tag, p)
		}
		add(t.names, r.Name, p)
		add(t.versions, r.Version, p)
		add(t.statuses, r.Status, p)
	}
	words := (len(res) + 63) / 64
	for _, m := range []map[string]*posting{t.tags, t.names, t.versions, t.statuses} {
		for _, pl := range m {
			if len(pl.ids) >= 32 && len(pl.ids) >= words {
				pl.bits = make([]uint64, words)
				for _, i := range pl.ids {
					pl.bits[i>>6] |= 1 << (uint(i) & 63)
				}
			}
		}
	}
	return t, nil
}

// match appends to out the positions of the resources c selects, with
// defStatus as the status when c names none, in position order.
func (t *table) match(c Criterion, defStatus string, out []int32) []int32 {
	if c.Status == "" {
		c.Status = defStatus
	}
	if c.ID != "" {
		p, ok := t.byID[c.ID]
		if ok && mismatch(t.res[p], c, "") == "" {
			out = append(out, p)
		}
		return out
	}
	var arr [8]*posting
	lists := arr[:0]
	add := func(m map[string]*posting, key string) bool {
		if key == "" {
			return true
		}
		pl, ok := m[key]
		lists = append(lists, pl)
		return ok
	}
	ok := add(t.names, c.Name) && add(t.versions, c.Version) && add(t.statuses, c.Status)
	for _, tag := range c.Tags {
		ok = ok && add(t.tags, tag)
	}
	if !ok {
		return out
	}
	if len(lists) == 0 {
		for i := range t.res {
			out = append(out, int32(i))
		}
		return out
	}
	small := 0
	for i, pl := range lists {
		if len(pl.ids) < len(lists[small].ids) {
			small = i
		}
	}
	lists[0], lists[small] = lists[small], lists[0]
next:
	for _, p := range lists[0].ids {
		for _, pl := range lists[1:] {
			if !pl.has(p) {
				continue next
			}
		}
		out = append(out, p)
	}
	return out
}

// near returns up to limit positions of resources that share at least
// one tag, the name or the id with c: the ones worth explaining.
func (t *table) near(c Criterion, limit int) []int32 {
	seen := map[int32]bool{}
	var out []int32
	add := func(list []int32) {
		for _, p := range list {
			if len(out) >= limit {
				return
			}
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	if p, ok := t.byID[c.ID]; ok && c.ID != "" {
		add([]int32{p})
	}
	if pl := t.names[c.Name]; pl != nil {
		add(pl.ids)
	}
	for _, tag := range c.Tags {
		if pl := t.tags[tag]; pl != nil {
			add(pl.ids)
		}
	}
	return out
}

// Index is an immutable snapshot of a Genie installation's resources,
// indexed for resolution. It is safe for concurrent use.
type Index struct {
	apps     map[string]*Application
	commands []*Command
	clusters []*Cluster
	cmdTab   *table
	cluTab   *table
}

// NewIndex indexes the resources; an id given twice within a kind is an
// error. The index keeps the pointers: callers must not change the
// resources afterwards.
func NewIndex(apps []*Application, commands []*Command, clusters []*Cluster) (*Index, error) {
	x := &Index{apps: make(map[string]*Application, len(apps)), commands: commands, clusters: clusters}
	for _, a := range apps {
		if _, dup := x.apps[a.ID]; dup {
			return nil, fmt.Errorf("application %q: indexed twice", a.ID)
		}
		x.apps[a.ID] = a
	}
	res := make([]*Resource, len(commands))
	for i, c := range commands {
		res[i] = &c.Resource
	}
	var err error
	if x.cmdTab, err = newTable("command", res); err != nil {
		return nil, err
	}
	res = make([]*Resource, len(clusters))
	for i, c := range clusters {
		res[i] = &c.Resource
	}
	if x.cluTab, err = newTable("cluster", res); err != nil {
		return nil, err
	}
	return x, nil
}

// Application returns the application with id, or nil.
func (x *Index) Application(id string) *Application { return x.apps[id] }

// Command returns the command with id, or nil.
func (x *Index) Command(id string) *Command {
	if p, ok := x.cmdTab.byID[id]; ok {
		return x.commands[p]
	}
	return nil
}

// Cluster returns the cluster with id, or nil.
func (x *Index) Cluster(id string) *Cluster {
	if p, ok := x.cluTab.byID[id]; ok {
		return x.clusters[p]
	}
	return nil
}

// Size returns how many applications, commands and clusters x holds.
func (x *Index) Size() (apps, commands, clusters int) {
	return len(x.apps), len(x.commands), len(x.clusters)
}

// ClustersFor returns the clusters a command's cluster criteria select,
// the first criterion that selects any winning (Genie's "resolve clusters
// for a command").
func (x *Index) ClustersFor(cmd *Command) []*Cluster {
	for _, cc := range cmd.ClusterCriteria {
		if ps := x.cluTab.match(cc, StatusUp, nil); len(ps) > 0 {
			out := make([]*Cluster, len(ps))
			for i, p := range ps {
				out[i] = x.clusters[p]
			}
			return out
		}
	}
	return nil
}
