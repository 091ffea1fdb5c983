// Package bench owns the measuring side of cm's benchmarks against runc
// and crun: starting a contender (a runtime's "run", or the bare-clone
// baseline) under a small C helper that times it and reads its rusage
// with wait4, interleaving contenders round-robin, throughput batches,
// percentiles, the comparison targets, and the report (Markdown tables,
// CSV and an SVG plot).
//
// It compiles its own small C programs, but never builds bundles, never
// touches cgroups or mounts and never decides which runtimes exist:
// cmd/spawnbench prepares the machine and hands this package
// ready-to-run command lines.
package bench
