package cgroupfs

import (
	"fmt"
	"os"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// deviceRule is a short way to write an OCI device rule in the tables.
func deviceRule(allow bool, typ string, major, minor int64, access string) specs.LinuxDeviceCgroup {
	return specs.LinuxDeviceCgroup{Allow: allow, Type: typ, Major: &major, Minor: &minor, Access: access}
}

var denyAll = specs.LinuxDeviceCgroup{Allow: false, Access: "rwm"}

func TestDeviceWrites(t *testing.T) {
	tests := []struct {
		name  string
		rules []specs.LinuxDeviceCgroup
		want  []deviceWrite
	}{{
		name: "deny all first, then the exceptions left at the end, in the config's order",
		rules: []specs.LinuxDeviceCgroup{
			denyAll,
			deviceRule(true, "c", 1, 3, "rwm"),
			deviceRule(true, "b", 8, -1, "r"),
			deviceRule(false, "c", 1, 3, "m"),
		},
		want: []deviceWrite{
			{"devices.deny", "a"},
			{"devices.allow", "c 1:3 rw"},
			{"devices.allow", "b 8:* r"},
		},
	}, {
		name:  "no rules: deny everything",
		rules: nil,
		want:  []deviceWrite{{"devices.deny", "a"}},
	}, {
		name:  "allow all",
		rules: []specs.LinuxDeviceCgroup{{Allow: true}},
		want:  []deviceWrite{{"devices.allow", "a"}},
	}, {
		name:  "a later reset drops the earlier exceptions",
		rules: []specs.LinuxDeviceCgroup{denyAll, deviceRule(true, "c", 1, 11, "rwm"), denyAll, deviceRule(true, "c", 1, 3, "rwm")},
		want:  []deviceWrite{{"devices.deny", "a"}, {"devices.allow", "c 1:3 rwm"}},
	}, {
		name: "allowed then denied exactly: gone; added again: last",
		rules: []specs.LinuxDeviceCgroup{
			denyAll, deviceRule(true, "c", 1, 11, "rwm"), deviceRule(true, "c", 1, 3, "rwm"),
			deviceRule(false, "c", 1, 11, ""), deviceRule(true, "c", 1, 5, "r"), deviceRule(true, "c", 1, 11, "w"),
		},
		want: []deviceWrite{{"devices.deny", "a"}, {"devices.allow", "c 1:3 rwm"}, {"devices.allow", "c 1:5 r"}, {"devices.allow", "c 1:11 w"}},
	}, {
		name:  "access adds up",
		rules: []specs.LinuxDeviceCgroup{denyAll, deviceRule(true, "c", 1, 5, "r"), deviceRule(true, "c", 1, 5, "m")},
		want:  []deviceWrite{{"devices.deny", "a"}, {"devices.allow", "c 1:5 rm"}},
	}, {
		name:  "allow all, then deny exceptions",
		rules: []specs.LinuxDeviceCgroup{{Allow: true, Type: "a"}, deviceRule(false, "c", 1, 11, "w"), deviceRule(false, "b", -1, -1, "m")},
		want:  []deviceWrite{{"devices.allow", "a"}, {"devices.deny", "c 1:11 w"}, {"devices.deny", "b *:* m"}},
	}, {
		name:  "narrow rule for all types is split into char and block",
		rules: []specs.LinuxDeviceCgroup{{Allow: true, Type: "a", Major: ptr(int64(5)), Access: "rw"}},
		want:  []deviceWrite{{"devices.deny", "a"}, {"devices.allow", "c 5:* rw"}, {"devices.allow", "b 5:* rw"}},
	}, {
		name:  "-1 means any number",
		rules: []specs.LinuxDeviceCgroup{deviceRule(true, "c", -1, -1, "m")},
		want:  []deviceWrite{{"devices.deny", "a"}, {"devices.allow", "c *:* m"}},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := effectiveDeviceRules(tc.rules)
			require.NoError(t, err)
			require.Equal(t, tc.want, s.v1Writes())
		})
	}
}

// TestDeviceRuleHoles: a rule the kernel would silently ignore, because it
// lies inside a wider exception, is an error naming the rule.
func TestDeviceRuleHoles(t *testing.T) {
	tests := []struct {
		name  string
		rules []specs.LinuxDeviceCgroup
		want  string
	}{{
		name:  "deny one device after allowing its type",
		rules: []specs.LinuxDeviceCgroup{denyAll, deviceRule(true, "c", -1, -1, "rwm"), deviceRule(false, "c", 1, 11, "w")},
		want:  "linux.resources.devices[2]: deny c 1:11 w cannot be carved out of the earlier allow c *:* rwm: the device cgroup only removes exact matches",
	}, {
		name:  "allow one device after denying its major",
		rules: []specs.LinuxDeviceCgroup{{Allow: true}, deviceRule(false, "c", 1, -1, "rwm"), deviceRule(true, "c", 1, 3, "r")},
		want:  "linux.resources.devices[2]: allow c 1:3 r cannot be carved out of the earlier deny c 1:* rwm",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := effectiveDeviceRules(tc.rules)
			require.ErrorIs(t, err, ErrInvalidResources)
			require.ErrorContains(t, err, tc.want)
			h := &Host{}
			require.ErrorContains(t, h.ValidateResources(&specs.LinuxResources{Devices: tc.rules}), tc.want)
		})
	}
	// Removing access the wider exception does not grant is fine.
	_, err := effectiveDeviceRules([]specs.LinuxDeviceCgroup{denyAll, deviceRule(true, "c", -1, -1, "m"), deviceRule(false, "c", 1, 11, "rw")})
	require.NoError(t, err)
}

// TestDeviceFilterVerifier loads the programs for several rule sets into
// the kernel, whose verifier checks every instruction and jump (this needs
// root, as the tests do).
func TestDeviceFilterVerifier(t *testing.T) {
	require.Equal(t, 0, os.Geteuid(), "loading eBPF programs needs root")
	sets := [][]specs.LinuxDeviceCgroup{
		nil,
		{{Allow: true}},
		{denyAll, deviceRule(true, "c", 1, 3, "rwm"), deviceRule(true, "c", 136, -1, "rw"), deviceRule(true, "b", -1, -1, "m")},
		{{Allow: true}, deviceRule(false, "c", 1, 11, "w"), deviceRule(false, "b", 8, 0, "rwm")},
		{denyAll, deviceRule(true, "c", 4000, 0xfffff, "r"), deviceRule(true, "c", 0xffffffff, 0, "r")},
	}
	for i, rules := range sets {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			s, err := effectiveDeviceRules(rules)
			require.NoError(t, err)
			fd, err := loadDeviceFilter(deviceFilter(s))
			require.NoError(t, err)
			require.NoError(t, unix.Close(fd))
		})
	}
}
