package cgroupfs

import (
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Device rules are enforced by the v1 devices controller: each line
// written to devices.allow or devices.deny adds or removes an exception
// ("c 1:3 rwm": char device 1:3, read, write and mknod). Writing "a" to
// devices.deny drops every exception and denies everything.
//
// The OCI list is applied the way the spec describes: start from
// deny-all, then apply the rules in their listed order, so later rules
// override earlier ones. Because of the deny-all start, re-applying rules
// to a running container (cmrun update) briefly denies all devices.
//
// cgroup v2 has no such files; it needs an eBPF program instead, which cm
// does not load (Apply reports that as a warning).

// deviceWrite is one line for devices.allow or devices.deny.
type deviceWrite struct {
	file string
	line string
}

// deviceWrites translates OCI device rules into the lines to write, in
// order. An unset type means all types, unset major/minor (or -1) mean
// all numbers, and an empty access means "rwm".
func deviceWrites(rules []specs.LinuxDeviceCgroup) []deviceWrite {
	out := []deviceWrite{{"devices.deny", "a"}}
	for _, r := range rules {
		file := "devices.deny"
		if r.Allow {
			file = "devices.allow"
		}
		access := r.Access
		if access == "" {
			access = "rwm"
		}
		major, minor := deviceNumber(r.Major), deviceNumber(r.Minor)
		switch r.Type {
		case "", "a":
			if major == "*" && minor == "*" && hasAllAccess(access) {
				out = append(out, deviceWrite{file, "a"})
				continue
			}
			// The kernel reads any line starting with "a" as "all devices,
			// all access" and ignores the rest, so a narrower rule for all
			// device types is written once for char and once for block.
			out = append(out,
				deviceWrite{file, fmt.Sprintf("c %s:%s %s", major, minor, access)},
				deviceWrite{file, fmt.Sprintf("b %s:%s %s", major, minor, access)})
		default:
			out = append(out, deviceWrite{file, fmt.Sprintf("%s %s:%s %s", r.Type, major, minor, access)})
		}
	}
	return out
}

func deviceNumber(n *int64) string {
	if n == nil || *n == -1 {
		return "*"
	}
	return strconv.FormatInt(*n, 10)
}

func hasAllAccess(access string) bool {
	return strings.Contains(access, "r") && strings.Contains(access, "w") && strings.Contains(access, "m")
}

func applyV1Devices(dir string, rules []specs.LinuxDeviceCgroup) error {
	for _, w := range deviceWrites(rules) {
		if err := writeFile(dir, w.file, w.line); err != nil {
			return err
		}
	}
	return nil
}
