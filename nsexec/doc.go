// Package nsexec is the C preamble of a container init: the namespace work
// that must happen while the process still has one thread, before the Go
// runtime starts (see nsexec.c for the stages and why each one is there;
// wire.c holds its messages, namespaces.c its namespace work).
//
// Importing this package links the constructor into the binary. The
// constructor does nothing unless the process was started as a container
// init (the environment variable InitPipeEnv names an inherited socket).
// The Go half of the preamble's wire protocol lives in protocol.go, with
// the framing that the Go init reuses for its own messages (defined in
// runtime/initproto.go, never here). This package never touches mounts or
// the container's configuration; it moves stage 0 into the cgroup files
// the parent names (see cgroupfs.Entry) but never decides which.
package nsexec
