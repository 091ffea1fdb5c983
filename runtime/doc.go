// Package runtime owns the life of one OCI container on this host:
// creating the container init in its namespaces (with the nsexec
// preamble), the state kept between cmrun invocations, and start, exec,
// kill, delete.
//
// Its leaf packages own the rest, and import nothing of runtime:
// runtime/spec loads and checks a bundle's config and holds the default
// configs, runtime/rootfs builds the root filesystem inside the init,
// runtime/namespace is the table of namespace kinds, runtime/seccomp the
// filter, runtime/signals the signal names and runtime/term the raw
// terminal. The manager daemon may import spec, signals and namespace,
// which link neither nsexec nor libseccomp.
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
