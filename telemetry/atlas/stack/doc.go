// Package stack implements Netflix Atlas's stack language (ASL) and the
// evaluation behind Atlas's graph API over Gaffer's time-series store.
//
// Parse turns a program into the expressions left on the stack (each a
// *StyleExpr); Evaluate fetches the data they need from a Source at the
// graph's step, consolidates it as Atlas does and computes the lines.
// Errors name the word and its position in the program. TSDBSource reads
// the store; Tier is Atlas's in-memory tier of recent data; TieredSource
// reads from the tier what it holds and from the store the rest.
//
// The vocabulary, the sources and how step times compare with Atlas's are
// described in docs/atlas.md.
package stack
