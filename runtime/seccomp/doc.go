// Package seccomp turns an OCI linux.seccomp profile into a seccomp BPF
// filter (through libseccomp) and loads it into the calling thread. The
// default profile is data of the default config, in runtime/spec.
//
// It owns only the filter: it never changes capabilities, users or
// namespaces, and the only other process state it touches is the
// no_new_privs bit, which the kernel ties to loading a filter.
//
// A filter cannot be removed once loaded, and it constrains the loading
// process too. The container init therefore loads it as the very last
// step before execve (or, when the profile must be loaded without
// no_new_privs, just before dropping capabilities: see Filter.Load).
// A profile with SCMP_ACT_NOTIFY rules is loaded with a listener for a
// seccomp agent (Filter.LoadListener), before the init reports ready,
// so that its parent can send the listener on (runtime/seccomp_agent.go).
//
// Build does all of libseccomp's work and keeps only the resulting BPF
// program, so the init can build before it waits for "start"; Load is a
// single seccomp(2) call. Filters are always loaded with
// SECCOMP_FILTER_FLAG_TSYNC, which applies them to every thread of the
// process: a Go init needs that, since the runtime owns threads it
// cannot lock.
package seccomp
