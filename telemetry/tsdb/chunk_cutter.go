package tsdb

// Chunks of persisted blocks are cut at a multiple of the block duration
// once they hold chunkTarget samples, and anywhere at chunkMax: a 2 h
// block of 10 s samples has one chunk of 720 per series, while one-minute
// samples gather into chunks of 8 h in compacted blocks. Longer chunks
// compress better and need fewer index entries; chunkMax bounds what a
// query decodes to read a few samples.
const (
	chunkTarget = 480
	chunkMax    = 8192
)

// chunkCutter gathers one series' samples of one kind into chunks. Its
// arrays are reused after reset, so chunks must be written before then.
type chunkCutter struct {
	kind  byte
	span  int64 // chunks end at multiples of span
	out   []pendingChunk
	spare []pendingChunk // arrays to reuse
}

// reset starts a new series.
func (c *chunkCutter) reset(kind byte, span int64) {
	c.kind, c.span = kind, span
	for _, p := range c.out {
		c.spare = append(c.spare, pendingChunk{ts: p.ts[:0], vs: p.vs[:0]})
	}
	c.out = c.out[:0]
}

// add appends a sample; samples come in increasing time order.
func (c *chunkCutter) add(t int64, v float64) {
	n := len(c.out)
	if n > 0 {
		cur := &c.out[n-1]
		k := len(cur.ts)
		if k < chunkMax && (k < chunkTarget || floorDiv(t, c.span) == floorDiv(cur.maxT, c.span)) {
			cur.ts = append(cur.ts, t)
			cur.vs = append(cur.vs, v)
			cur.maxT = t
			return
		}
	}
	var p pendingChunk
	if k := len(c.spare); k > 0 {
		p = c.spare[k-1]
		c.spare = c.spare[:k-1]
	}
	p.kind, p.minT, p.maxT = c.kind, t, t
	p.ts = append(p.ts, t)
	p.vs = append(p.vs, v)
	c.out = append(c.out, p)
}

// chunks returns the chunks gathered since reset.
func (c *chunkCutter) chunks() []pendingChunk { return c.out }

// cutIterator gathers an iterator's samples into c, passing each to each
// if it is not nil.
func cutIterator(it Iterator, c *chunkCutter, each func(int64, float64)) error {
	for it.Next() {
		t, v := it.At()
		c.add(t, v)
		if each != nil {
			each(t, v)
		}
	}
	return it.Err()
}
