// Package runtime owns the life of one OCI container on this host: loading
// and checking a bundle, creating the container init in its namespaces
// (with the nsexec preamble), setting up its root filesystem, the state
// kept between cmrun invocations, and start, kill, delete.
//
// Every process enters a container the same way: the parent (spawn.go)
// starts "cmrun init", whose nsexec preamble creates or joins the
// namespaces before the Go runtime starts, then sends its Go half the
// messages of initproto.go. "create" starts the standard init
// (spawn_standard.go, init_standard.go), which builds the container and
// waits on the exec fifo for "start"; "exec" starts the setns init
// (spawn_setns.go, init_setns.go), which only joins it. Both inits end in
// init.go: limits, user, capabilities, seccomp, execve.
//
// It never talks to the manager daemon and never parses command lines:
// cmd/cmrun turns flags into calls here. Cgroup files are written only
// through package cgroupfs, capabilities only through package capabilities.
package runtime
