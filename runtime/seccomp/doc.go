// Package seccomp turns an OCI linux.seccomp profile into a seccomp BPF
// filter (through libseccomp) and loads it into the calling thread, and
// provides cmrun's default profile.
//
// It owns only the filter: it never changes capabilities, users or
// namespaces, and the only other process state it touches is the
// no_new_privs bit, which the kernel ties to loading a filter.
//
// A filter cannot be removed once loaded, and it constrains the loading
// process too. The container init therefore loads it as the very last
// step before execve (or, when the profile must be loaded without
// no_new_privs, just before dropping capabilities: see Filter.Load).
//
// libseccomp always builds filters with SECCOMP_FILTER_FLAG_TSYNC here
// (the Go binding turns it on and offers no way to turn it off): loading
// applies the filter to every thread of the process, which is what a Go
// init needs, since the runtime owns threads it cannot lock.
package seccomp
