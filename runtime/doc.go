// Package runtime owns the life of one OCI container on this host: loading
// and checking a bundle, creating the container init in its namespaces
// (with the nsexec preamble), setting up its root filesystem, the state
// kept between cmrun invocations, and start, kill, delete.
//
// It never talks to the manager daemon and never parses command lines:
// cmd/cmrun turns flags into calls here. Cgroup files are written only
// through package cgroupfs, capabilities only through package capabilities.
package runtime
