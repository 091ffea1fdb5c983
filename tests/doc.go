// Package tests holds cm's integration tests: they build the real
// binaries, run real containers as root and look at the result from the
// host (processes, mounts, cgroups) and from inside the container.
// They never reach into a package's internals; every check goes through
// a binary's command line, as a user's would.
package tests
