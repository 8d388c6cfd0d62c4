package audit

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"
)

// RefusedAnonymousAction is the action of the entry that counts refused
// anonymous calls from one source after the first was recorded in full.
const RefusedAnonymousAction = "audit.refused_anonymous"

// otherSources is the source under which calls are counted while
// MaxRefusalSources sources are already being counted.
const otherSources = "other sources"

// refusalLimiter keeps the audit log from growing with every request an
// anonymous caller sends: per source and window, one sample and a count.
type refusalLimiter struct {
	window     time.Duration
	maxSources int

	mu   sync.Mutex
	open map[string]*refusalWindow
}

type refusalWindow struct {
	source      string
	start, last time.Time
	counted     int
	actions     map[string]int
}

func newRefusalLimiter(window time.Duration, maxSources int) *refusalLimiter {
	return &refusalLimiter{window: window, maxSources: maxSources, open: map[string]*refusalWindow{}}
}

// admit decides whether e is written (the first refused call from its
// source in a window) and returns the summaries of windows that have
// ended, to be written first.
func (l *refusalLimiter) admit(e Entry, now time.Time) (write bool, summaries []Entry) {
	source := sourceOf(e.RemoteAddr)
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.open[source]
	if w != nil && now.Sub(w.start) >= l.window {
		summaries = appendSummary(summaries, w)
		delete(l.open, source)
		w = nil
	}
	if w == nil && len(l.open) >= l.maxSources {
		summaries = append(summaries, l.endedLocked(now)...)
		if len(l.open) >= l.maxSources {
			source = otherSources
			w = l.open[source]
			if w == nil {
				w = &refusalWindow{source: source, start: now, actions: map[string]int{}}
				l.open[source] = w // one over maxSources, at most
			}
		}
	}
	if w == nil {
		l.open[source] = &refusalWindow{source: source, start: now, last: now, actions: map[string]int{}}
		return true, summaries
	}
	w.counted++
	w.last = now
	if len(w.actions) < 10 {
		w.actions[e.Action]++
	} else if _, ok := w.actions[e.Action]; ok {
		w.actions[e.Action]++
	}
	return false, summaries
}

// ended removes the windows that have passed and returns their summaries;
// with all set, it removes every window.
func (l *refusalLimiter) ended(now time.Time, all bool) []Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	if all {
		var out []Entry
		for k, w := range l.open {
			out = appendSummary(out, w)
			delete(l.open, k)
		}
		return out
	}
	return l.endedLocked(now)
}

func (l *refusalLimiter) endedLocked(now time.Time) []Entry {
	var out []Entry
	for k, w := range l.open {
		if now.Sub(w.start) >= l.window {
			out = appendSummary(out, w)
			delete(l.open, k)
		}
	}
	return out
}

// appendSummary adds the entry counting w's calls, if it counted any.
func appendSummary(out []Entry, w *refusalWindow) []Entry {
	if w.counted == 0 {
		return out
	}
	detail := fmt.Sprintf("%d more refused anonymous calls from %s between %s and %s, by action: %v",
		w.counted, w.source, w.start.UTC().Format(time.RFC3339), w.last.UTC().Format(time.RFC3339), w.actions)
	if len(w.actions) >= 10 {
		detail += " (and others)"
	}
	return append(out, Entry{Time: w.last, Actor: "anonymous", Action: RefusedAnonymousAction,
		Target: "source:" + w.source, Outcome: OutcomeDenied, RemoteAddr: w.source,
		Detail: truncate(detail, MaxDetail)})
}

// sourceOf is the address calls are counted by: the IP without the port,
// and for IPv6 its /64 network, which one client usually holds whole.
func sourceOf(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return truncate(host, 64)
	}
	if ip.To4() == nil {
		return (&net.IPNet{IP: ip.Mask(net.CIDRMask(64, 128)), Mask: net.CIDRMask(64, 128)}).String()
	}
	return ip.String()
}

// flushLoop writes the counts of windows that have passed, once per
// window, until Close.
func (l *Log) flushLoop(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			close(l.flushed)
			return
		case <-t.C:
			l.write(l.refusals.ended(l.now(), false)...)
		}
	}
}

// FlushRefusals writes the counts of refused anonymous calls whose window
// has passed; the log does so by itself once per window.
func (l *Log) FlushRefusals(ctx context.Context) error {
	return l.write(l.refusals.ended(l.now(), false)...)
}

// Close writes every open count of refused anonymous calls and stops the
// log's timer. Entries recorded after Close are still written.
func (l *Log) Close(ctx context.Context) error {
	l.stopped.Do(func() { close(l.stop) })
	<-l.flushed
	return l.write(l.refusals.ended(l.now(), true)...)
}
