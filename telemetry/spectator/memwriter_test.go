package spectator

import "sync"

// MemoryWriter keeps the lines written to it, for tests.
type MemoryWriter struct {
	mu    sync.Mutex
	lines []string
}

// WriteLine implements Writer.
func (m *MemoryWriter) WriteLine(line []byte) {
	m.mu.Lock()
	m.lines = append(m.lines, string(line))
	m.mu.Unlock()
}

// Lines returns the lines written so far.
func (m *MemoryWriter) Lines() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.lines...)
}

// Reset forgets the lines.
func (m *MemoryWriter) Reset() { m.mu.Lock(); m.lines = nil; m.mu.Unlock() }

// Close implements Writer.
func (m *MemoryWriter) Close() error { return nil }
