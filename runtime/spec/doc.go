// Package spec owns the OCI configuration as cm reads it: loading a
// bundle's config.json, checking every field before anything is created
// (reporting the field that is wrong), cm's and runc's default configs,
// and the vocabulary a config's words map to (mount options, rlimits,
// I/O priority classes, personalities).
//
// It is pure data and checks: it never creates a container, never
// changes the calling process, and never links nsexec or libseccomp, so
// the manager daemon may import it. The seccomp profile's vocabulary
// stays with libseccomp in runtime/seccomp, whose check callers pass in.
package spec
