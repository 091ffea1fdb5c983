// Package shim is cmshim, the per-container assistant of the manager: it
// creates and starts one container through package runtime, reaps its
// init (and, as a child subreaper, every orphan of the container), copies
// its output to a size-capped log, and pushes registration, state
// reports and heartbeats to the manager, keeping them (and the exit
// status, in status.json) until a manager is there to hear them. Each
// message carries the token the manager gave it on a pipe, so the
// manager can tell it from any other root process. When the manager
// answers 404 it kills the container and exits.
// Package cm/shim/proto is the wire format, shared with the manager.
//
// It owns the files it makes in its state directory and nothing else: it
// never touches cgroups, mounts or the runtime's state except through
// package runtime, and never writes the manager's state. Reclaim
// ("cmshim reclaim") removes what a dead shim's container left behind,
// for the manager, which does not link the runtime.
//
// # In process, not by running cmrun
//
// The daemon calls runtime.Create and runtime.Start itself. Running
// "cmrun create" and "cmrun start" instead would be slower (each is one
// more Go program to start and a state file to reload;
// BenchmarkCreateStart compares the two) and would save little memory: a
// shim that ran cmrun would still be a Go HTTP daemon, and most of a
// shim's resident memory is the binary and libc, shared by every shim.
// The README's "A shim's memory" and the manager benchmark
// (bench/results) have the numbers.
//
// In process wins: it is faster, the shim needs package runtime anyway
// (OOM count, kill of the whole cgroup, delete), and the container init
// becomes our own child (the runtime clones it with CLONE_PARENT), so its
// exit status comes from wait4 with no reparenting race.
package shim
