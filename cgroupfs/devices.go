package cgroupfs

import (
	"fmt"
	"math"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Device rules (linux.resources.devices) follow the model of the cgroup v1
// devices controller, which the OCI spec copies: a default (allow or deny
// everything) plus a set of exceptions, each a device type, major and
// minor (or "any") and the access it grants or refuses: r(ead), w(rite),
// m(knod). The list is applied in order from "deny everything":
//
//   - a rule for every device with every access ("a", the only kind the
//     kernel reads as "all") resets: the default becomes that rule's
//     verdict and the exceptions are dropped;
//   - a rule with the opposite verdict to the default adds an exception;
//   - a rule with the same verdict removes that exact exception's access.
//
// The kernel removes only exact matches: denying c 1:11 after allowing
// c *:* changes nothing, silently. Like runc, cm refuses such a rule
// instead of letting the config believe the device is denied.
//
// deviceRuleSet is the result, the state the kernel holds after the
// writes; both the v1 files and the v2 eBPF program are made from it, so
// a config means the same on every host.

// deviceAccess is a set of r, w and m, in the bits the kernel's eBPF
// device context uses.
type deviceAccess uint32

const (
	accessMknod deviceAccess = unix.BPF_DEVCG_ACC_MKNOD
	accessRead  deviceAccess = unix.BPF_DEVCG_ACC_READ
	accessWrite deviceAccess = unix.BPF_DEVCG_ACC_WRITE
	accessAll                = accessRead | accessWrite | accessMknod
)

// anyNumber is a major or minor that matches every number ("*").
const anyNumber = -1

// deviceKey names the devices one exception covers.
type deviceKey struct {
	typ   byte  // 'c' or 'b'
	major int64 // or anyNumber
	minor int64 // or anyNumber
}

func (k deviceKey) String() string {
	return fmt.Sprintf("%c %s:%s", k.typ, numberString(k.major), numberString(k.minor))
}

func numberString(n int64) string {
	if n == anyNumber {
		return "*"
	}
	return fmt.Sprint(n)
}

func (a deviceAccess) String() string {
	var b strings.Builder
	for _, x := range []struct {
		bit deviceAccess
		c   byte
	}{{accessRead, 'r'}, {accessWrite, 'w'}, {accessMknod, 'm'}} {
		if a&x.bit != 0 {
			b.WriteByte(x.c)
		}
	}
	return b.String()
}

// deviceException is one entry of the set: the devices of key, with access
// the opposite of the default.
type deviceException struct {
	key    deviceKey
	access deviceAccess
}

// deviceRuleSet is the effective device policy. Like the kernel's list,
// the exceptions keep the order in which they were first added, so
// devices.list shows the config's rules in the config's order.
type deviceRuleSet struct {
	defaultAllow bool
	exceptions   map[deviceKey]deviceAccess
	order        []deviceKey // the keys of exceptions, oldest first
}

// ordered lists the exceptions, oldest first.
func (s *deviceRuleSet) ordered() []deviceException {
	out := make([]deviceException, 0, len(s.order))
	for _, k := range s.order {
		out = append(out, deviceException{k, s.exceptions[k]})
	}
	return out
}

// effectiveDeviceRules applies the rules in order from "deny everything".
// The rules must have passed checkDeviceRule. An error names the rule the
// kernel could not honour.
func effectiveDeviceRules(rules []specs.LinuxDeviceCgroup) (*deviceRuleSet, error) {
	s := &deviceRuleSet{exceptions: map[deviceKey]deviceAccess{}}
	for i, r := range rules {
		access := parseAccess(r.Access)
		major, minor := ruleNumber(r.Major), ruleNumber(r.Minor)
		if (r.Type == "" || r.Type == "a") && major == anyNumber && minor == anyNumber && access == accessAll {
			s.defaultAllow = r.Allow
			clear(s.exceptions)
			s.order = nil
			continue
		}
		// Narrower than "everything" for all types: the same rule for each
		// type, since the kernel reads any line starting with "a" as all.
		types := []byte{'c', 'b'}
		if r.Type == "c" || r.Type == "b" {
			types = []byte{r.Type[0]}
		}
		for _, typ := range types {
			if err := s.apply(r.Allow, deviceKey{typ, major, minor}, access); err != nil {
				return nil, invalid(fmt.Sprintf("devices[%d]", i), "%v", err)
			}
		}
	}
	return s, nil
}

func (s *deviceRuleSet) apply(allow bool, k deviceKey, access deviceAccess) error {
	if allow != s.defaultAllow {
		if _, ok := s.exceptions[k]; !ok {
			s.order = append(s.order, k)
		}
		s.exceptions[k] |= access
		return nil
	}
	// Removing access: refuse when a wider exception still grants it (the
	// kernel would keep the wider one and ignore this rule).
	for _, wider := range []deviceKey{{k.typ, anyNumber, k.minor}, {k.typ, k.major, anyNumber}, {k.typ, anyNumber, anyNumber}} {
		if wider == k {
			continue
		}
		if both := s.exceptions[wider] & access; both != 0 {
			return fmt.Errorf("%s %s %s cannot be carved out of the earlier %s %s %s: the device cgroup only removes exact matches",
				verdict(allow), k, access, verdict(!allow), wider, s.exceptions[wider])
		}
	}
	if left := s.exceptions[k] &^ access; left != 0 {
		s.exceptions[k] = left
	} else if _, ok := s.exceptions[k]; ok {
		delete(s.exceptions, k)
		s.order = slices.DeleteFunc(s.order, func(o deviceKey) bool { return o == k })
	}
	return nil
}

func verdict(allow bool) string {
	if allow {
		return "allow"
	}
	return "deny"
}

// parseAccess reads an OCI access string; empty means all of rwm.
func parseAccess(s string) deviceAccess {
	if s == "" {
		return accessAll
	}
	var a deviceAccess
	for _, c := range s {
		switch c {
		case 'r':
			a |= accessRead
		case 'w':
			a |= accessWrite
		case 'm':
			a |= accessMknod
		}
	}
	return a
}

// ruleNumber reads an OCI major or minor: unset and -1 both mean any.
func ruleNumber(n *int64) int64 {
	if n == nil || *n == -1 {
		return anyNumber
	}
	return *n
}

// maxDeviceNumber bounds majors and minors: the kernel keeps them in 32
// bits (and really uses 12 and 20).
const maxDeviceNumber = math.MaxUint32

// deviceWrite is one line for devices.allow or devices.deny.
type deviceWrite struct {
	file string
	line string
}

// v1Writes are the lines that put s into a v1 devices cgroup: "a" to set
// the default and drop every old exception, then the exceptions. Between
// the two a running container (cmrun update) briefly gets the default.
func (s *deviceRuleSet) v1Writes() []deviceWrite {
	reset, except := "devices.deny", "devices.allow"
	if s.defaultAllow {
		reset, except = except, reset
	}
	out := []deviceWrite{{reset, "a"}}
	for _, e := range s.ordered() {
		out = append(out, deviceWrite{except, e.key.String() + " " + e.access.String()})
	}
	return out
}

func applyV1Devices(dir string, rules []specs.LinuxDeviceCgroup) error {
	s, err := effectiveDeviceRules(rules)
	if err != nil {
		return err
	}
	for _, w := range s.v1Writes() {
		if err := writeFile(dir, w.file, w.line); err != nil {
			return err
		}
	}
	return nil
}
