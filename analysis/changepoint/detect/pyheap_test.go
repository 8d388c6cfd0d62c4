package detect

// pyHeap is a binary min-heap that moves items exactly as CPython's heapq
// does, so that ties between equal keys resolve as in ruptures.
type pyHeap[T any] struct {
	items []T
	less  func(a, b T) bool
}

// push is heapq.heappush.
func (h *pyHeap[T]) push(x T) {
	h.items = append(h.items, x)
	h.siftDown(0, len(h.items)-1)
}

// pop is heapq.heappop; the heap must not be empty.
func (h *pyHeap[T]) pop() T {
	last := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	if len(h.items) == 0 {
		return last
	}
	ret := h.items[0]
	h.items[0] = last
	h.siftUp(0)
	return ret
}

func (h *pyHeap[T]) siftDown(start, pos int) {
	a := h.items
	item := a[pos]
	for pos > start {
		parent := (pos - 1) >> 1
		if h.less(item, a[parent]) {
			a[pos] = a[parent]
			pos = parent
			continue
		}
		break
	}
	a[pos] = item
}

func (h *pyHeap[T]) siftUp(pos int) {
	a := h.items
	end, start := len(a), pos
	item := a[pos]
	child := 2*pos + 1
	for child < end {
		right := child + 1
		if right < end && !h.less(a[child], a[right]) {
			child = right
		}
		a[pos] = a[child]
		pos = child
		child = 2*pos + 1
	}
	a[pos] = item
	h.siftDown(start, pos)
}
