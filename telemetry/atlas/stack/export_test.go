package stack

// TierStore is tierStore for the benchmarks of package atlas_test.
var TierStore = tierStore
