// Package nsexec is the C preamble of a container init: the namespace work
// that must happen while the process still has one thread, before the Go
// runtime starts (see nsexec.c for the stages and why each one is there;
// wire.c holds its messages, namespaces.c its namespace work).
//
// Importing this package links the constructor into the binary. The
// constructor does two things. In every process it raises the timer slack
// for the Go runtime's sake and, in cmrun, keeps the threads on one CPU
// (one_cpu.c); ForkWithHostScheduling gives the processes we start the
// host's slack and every CPU back. In a process started as a container
// init (the environment variable InitPipeEnv names an inherited socket)
// it then runs the stages.
// The Go half of the preamble's wire protocol lives in protocol.go, with
// the framing that the Go init reuses for its own messages (defined in
// runtime/initproto.go, never here). This package never touches mounts or
// the container's configuration; it moves stage 0 into the cgroup files
// the parent names (see cgroupfs.Entry) but never decides which.
package nsexec
