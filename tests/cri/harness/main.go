// Command harness holds the parts of tests/cri/run.sh that a shell does
// badly:
//
//	harness subreaper CMD ARGS...  run CMD as a child subreaper: the shims
//	                               containerd daemonizes are reparented here
//	                               and reaped (this host's PID 1 never reaps);
//	harness report RUNC.xml CM.xml print the spec counts of two critest JUnit
//	                               reports and the specs only one failed.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "subreaper":
		if len(os.Args) < 3 {
			usage()
		}
		os.Exit(subreaper(os.Args[2:]))
	case "report":
		if len(os.Args) != 4 {
			usage()
		}
		err = report(os.Args[2], os.Args[3])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "harness:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: harness subreaper CMD [ARGS...] | harness report RUNC.xml CM.xml")
	os.Exit(2)
}
