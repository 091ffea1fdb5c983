// Package daemon is cmanagerd: it serves the client API and the shim API
// (see package api) on two Unix sockets, runs the transitions of package
// manager's state machine for them, makes every acknowledged change durable
// (package store) and public (package events), and has a bounded executor
// prepare bundles, launch shims and pass orders to them.
//
// It never creates cgroups or namespaces and never runs a container: shims
// do that with the runtime. The one exception is rm of a container whose
// shim did not delete it (a LOST container's shim is usually dead): the
// launcher then kills and removes what is left by running "cmshim reclaim"
// (reclaim.go; the daemon does not link the runtime), so no process outlives its record. It never polls: shims
// push their state, and the only thing that happens without a request is
// the Watchdog marking LOST a container whose shim has gone silent.
//
// It reads (never writes) a running container's cgroup for stats and the
// per-container metrics (stats.go, metrics.go): the runtime made it at the
// path the daemon wrote into the container's config.
package daemon
