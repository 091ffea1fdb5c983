// Package network gives cmanagerd's containers a network before they
// start: a network namespace of their own, bind-mounted on a file so it
// outlives any process (netns.go), and, through the standard CNI plugins
// driven by libcni, a loopback that is up and, in bridge mode, a veth on
// the daemon's bridge with an address from host-local IPAM and the
// published ports of the portmap plugin (cni.go). The runtime only joins
// the namespace (linux.namespaces[].path); it never configures it.
//
// Everything Setup makes, Teardown undoes, and Teardown may be run any
// number of times, on anything from nothing to a whole setup: CNI DEL is
// idempotent, so after a crash the daemon runs it for whatever the
// container's record says might exist.
package network
