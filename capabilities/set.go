package capabilities

import (
	"errors"
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ErrInconsistent is wrapped by errors about sets that the kernel could
// never apply together, whatever privileges the init has.
var ErrInconsistent = errors.New("inconsistent capability sets")

// Set is a parsed process.capabilities, ready to apply. Each set is a
// mask with bit N for capability number N, holding only capabilities the
// running kernel supports.
type Set struct {
	// Missing lists the requested names this kernel does not support
	// (numbers above /proc/sys/kernel/cap_last_cap), sorted. They are left
	// out of every set; the caller should log a warning for each.
	Missing []string

	// Warnings describe requested capabilities that were left out
	// because the kernel could never apply them together.
	Warnings []string

	// keep is true when the config has no capabilities object: like
	// runc, the init then leaves its capabilities as they are.
	keep bool

	bounding, effective, permitted, inheritable, ambient uint64
}

// AmbientLeftOut begins the warning about ambient capabilities the kernel
// cannot raise. runc's own default config.json asks for such ones and runc
// drops them silently, so callers show this warning only when debugging.
const AmbientLeftOut = "process.capabilities.ambient: "

// Parse checks the names in c and resolves them for the running kernel.
//
// A name that is not a capability at all is an error; all such names are
// reported at once, one line each, e.g.
// `process.capabilities.bounding: unknown capability "CAP_FOO"`.
// A name the kernel is too old for goes to Set.Missing instead.
//
// Parse also rejects an effective set that is not within permitted
// (capabilities(7)): failing here, before the container exists, gives a
// clearer message than a capset EPERM inside the init. Ambient entries
// outside permitted and inheritable are dropped with a warning instead.
//
// A nil c gives a Set whose methods change nothing.
func Parse(c *specs.LinuxCapabilities) (*Set, error) {
	if c == nil {
		return &Set{keep: true}, nil
	}
	last, err := lastCap()
	if err != nil {
		return nil, fmt.Errorf("read the last capability of this kernel: %w", err)
	}
	s := &Set{}
	missing := map[string]bool{}
	var errs []error
	fields := []struct {
		field string
		names []string
		mask  *uint64
	}{
		{"bounding", c.Bounding, &s.bounding},
		{"effective", c.Effective, &s.effective},
		{"permitted", c.Permitted, &s.permitted},
		{"inheritable", c.Inheritable, &s.inheritable},
		{"ambient", c.Ambient, &s.ambient},
	}
	for _, f := range fields {
		for _, name := range f.names {
			num, ok := byName[name]
			switch {
			case !ok:
				errs = append(errs, fmt.Errorf("process.capabilities.%s: %w %q", f.field, ErrUnknownCapability, name))
			case num > last:
				missing[name] = true
			default:
				*f.mask |= bit(num)
			}
		}
	}
	if extra := s.effective &^ s.permitted; extra != 0 {
		errs = append(errs, fmt.Errorf("process.capabilities.effective: %w: %s not in permitted (capset refuses it)",
			ErrInconsistent, strings.Join(namesOf(extra), ", ")))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	// runc's own default config.json lists ambient capabilities without
	// inheritable ones, so refusing them would refuse the most common
	// bundle. The kernel cannot raise them: drop them with a warning.
	if extra := s.ambient &^ (s.permitted & s.inheritable); extra != 0 {
		s.Warnings = append(s.Warnings, fmt.Sprintf(AmbientLeftOut+"%s not in both permitted and inheritable; the kernel cannot raise them, left out",
			strings.Join(namesOf(extra), ", ")))
		s.ambient &^= extra
	}
	s.Missing = sortedKeys(missing)
	return s, nil
}

// sortedKeys returns the keys of m in capability-number order, so
// warnings come out in a stable, familiar order.
func sortedKeys(m map[string]bool) []string {
	var all uint64
	for name := range m {
		all |= bit(byName[name])
	}
	return namesOf(all)
}
