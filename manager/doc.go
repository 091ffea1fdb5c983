// Package manager owns cm's state machine over containers: the states, the
// one transition table (transitions.go) that every change is checked
// against, the diagrams drawn from that table, and the lock-free table of
// containers whose state words change by compare-and-swap.
//
// It never does I/O: it does not persist, listen, launch shims or talk to
// the runtime. Package manager/daemon builds the cmanagerd daemon on top of
// it; cmctl imports it for the state names and to print the diagrams.
package manager
