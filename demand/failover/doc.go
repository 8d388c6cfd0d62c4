// Package failover is Gaffer's regional failover system, the "failover"
// module: Netflix's Demand Engineering failover service (Kong, then
// Nimble) for any multi-region fleet.
//
// It keeps a model of each fleet (package fleet: regions, services and
// their clusters, client geographies and their traffic steering),
// watches each region's key demand metric in the metrics system and
// recommends an evacuation when it drops against the same time yesterday
// and last week with a change point at the onset
// (gaffer.failover.recommended), plans evacuations and partial shifts
// (package plan: a forecast of demand, the new distribution under
// capacity, maximum share and latency preference — a linear program when
// the proportional shift does not fit — per-cluster targets, and the steps
// forward and back), previews them as a diff, and executes them as
// durable job chains (one River job per step, recorded with the next
// step's job in one transaction; a crashed process's execution is taken
// over after its lease) with pause, abort and rollback, each step
// publishing events. Infrastructure is reached through the interfaces of
// package provider: the simulator (package sim) and an HTTP webhook
// (package webhook). Dark capacity — pre-started instances behind a gate —
// is modelled by both the planner and the simulator, and a periodic job
// keeps dark pools sized from the forecast. Exercises (package exercise)
// evacuate a region of a generated fleet on the simulator and report a
// timeline.
//
// Anchors: Netflix's published figures — a region evacuated in about 8
// minutes with dark capacity (Nimble), against about 50 before — and a
// plan for 3 regions of 1,000 clusters in under a second. docs/failover.md
// is the guide; docs/benchmarks.md has the figures.
package failover
