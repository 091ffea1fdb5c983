package capabilities

import (
	"errors"
	"fmt"
	"math/bits"
	"strings"

	"github.com/moby/sys/capability"
)

// ErrUnknownCapability is wrapped by every error about a name that is not a
// Linux capability at all (as opposed to one this kernel is too old for).
var ErrUnknownCapability = errors.New("unknown capability")

// byName maps OCI names ("CAP_NET_RAW") to capability numbers, for every
// capability the library knows, whatever the running kernel supports.
var byName = func() map[string]capability.Cap {
	m := make(map[string]capability.Cap)
	for _, c := range capability.ListKnown() {
		m[nameOf(c)] = c
	}
	return m
}()

// nameOf gives the OCI spelling of c: the library's own names are
// lower case without the prefix ("net_raw").
func nameOf(c capability.Cap) string {
	return "CAP_" + strings.ToUpper(c.String())
}

// lastCap is the highest capability the running kernel supports
// (/proc/sys/kernel/cap_last_cap). A variable so tests can pretend to run
// on an older kernel.
var lastCap = capability.LastCap

// bit is the mask of a single capability, as the kernel lays sets out.
func bit(c capability.Cap) uint64 {
	return 1 << uint(c)
}

// Mask returns the mask of the named capabilities as /proc/PID/status
// prints it (CapBnd, CapEff, ...): bit N set for capability number N.
// Names are OCI spellings; an unknown name is an error.
func Mask(names []string) (uint64, error) {
	var m uint64
	for _, n := range names {
		c, ok := byName[n]
		if !ok {
			return 0, fmt.Errorf("%w %q", ErrUnknownCapability, n)
		}
		m |= bit(c)
	}
	return m, nil
}

// namesOf lists the OCI names of the bits set in m, lowest first.
func namesOf(m uint64) []string {
	var names []string
	for m != 0 {
		c := capability.Cap(bits.TrailingZeros64(m))
		names = append(names, nameOf(c))
		m &^= bit(c)
	}
	return names
}

// Known lists every capability name this package knows, in number order.
func Known() []string {
	var all uint64
	for _, c := range byName {
		all |= bit(c)
	}
	return namesOf(all)
}
