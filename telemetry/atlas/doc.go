// Package atlas implements Netflix Atlas's stack language (ASL) and the
// evaluation behind Atlas's graph API over Gaffer's time-series store.
//
// An expression is a comma-separated program for a stack machine: plain
// tokens are pushed as strings, "(" … ")" pushes a list, and words (tokens
// starting with ':') pop their arguments and push a result. The vocabulary
// is Atlas's — queries (:eq, :re, :and, …), data and aggregation (:sum,
// :by, :offset, :cf-max, …), math (:add, :fdiv, :percentiles, …),
// stateful operators (:des, :rolling-mean, :integral, …), filters (:topk,
// :stat, :filter, …), presentation (:legend, :stack, :axis, …) and the
// stack words (dup, swap, each, map, …) — with Atlas's semantics; where
// Atlas's documentation gives an example with its result, a test in this
// package reproduces it.
//
// Parse turns a program into the expressions left on the stack (each a
// *StyleExpr); Evaluate fetches the data those expressions need from a
// Source at the graph's step, consolidates it as Atlas does, and computes
// the lines. Errors name the word and its position in the program.
//
// # Sources
//
// TSDBSource reads the store, consolidating chunks per query. Tier is
// Atlas's in-memory tier: the last hours at the 1-minute step of the
// series Atlas graphs read, admitted on demand (warmed up from the store,
// then fed by it as it ingests, as a tsdb.Observer) and dropped when no
// graph reads them, giving TSDBSource's values without decoding a chunk.
// TieredSource reads from the tier the queries it holds and from the
// store the rest, asking the tier to admit what it missed. MemSource
// holds series given to it, for tests and benchmarks.
//
// # Time
//
// A step's datapoint at time t is the value Atlas would show at t. Gaffer
// fetches step values from the store through tsdb's consolidation, whose
// windows are [t, t+step); Atlas's windows are (t-step, t]. For data
// published on step boundaries, as Atlas publishers and spectatord do, the
// two agree; samples between boundaries land one step earlier than in
// Atlas. docs/atlas.md has the details.
package atlas
