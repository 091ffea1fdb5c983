package tests

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"
)

// TestDeviceCgroupDenyHonoured performs the attack of issue #14 item 6: a
// config that lists a device node in linux.devices must not thereby be
// allowed to use it when linux.resources.devices denies it. The node is
// /dev/kmsg (c 1:11), which runc refuses to open in the same setup; writing
// to it only adds a line to the kernel log. The allowed case shows that the
// refusal comes from the device cgroup and not from the kernel's own checks.
func TestDeviceCgroupDenyHonoured(t *testing.T) {
	e := newEnv(t)
	kmsgMajor, kmsgMinor := int64(1), int64(11)
	kmsg := specs.LinuxDevice{Path: "/dev/kmsg", Type: "c", Major: kmsgMajor, Minor: kmsgMinor}
	// The shell prints the kernel's answer to open(O_WRONLY) of /dev/kmsg.
	script := "if (echo cm-devices-test > /dev/kmsg) 2>/dev/null; then echo opened; " +
		"else (echo x > /dev/kmsg) 2>&1 | sed 's/.*: //'; fi; echo x > /dev/null && echo null-ok"
	tests := []struct {
		name string
		edit func(*specs.Spec)
		want string
	}{
		{name: "default deny-all config", edit: func(s *specs.Spec) {
			s.Linux.Devices = []specs.LinuxDevice{kmsg}
		}, want: "Operation not permitted\nnull-ok"},
		{name: "no device rules at all: runc's default allow list only", edit: func(s *specs.Spec) {
			s.Linux.Devices = []specs.LinuxDevice{kmsg}
			s.Linux.Resources.Devices = nil
		}, want: "Operation not permitted\nnull-ok"},
		{name: "allowed then denied again", edit: func(s *specs.Spec) {
			s.Linux.Devices = []specs.LinuxDevice{kmsg}
			s.Linux.Resources.Devices = append(s.Linux.Resources.Devices,
				specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: &kmsgMajor, Minor: &kmsgMinor, Access: "rwm"},
				specs.LinuxDeviceCgroup{Allow: false, Type: "c", Major: &kmsgMajor, Minor: &kmsgMinor, Access: "w"})
		}, want: "Operation not permitted\nnull-ok"},
		{name: "allowed by a rule", edit: func(s *specs.Spec) {
			s.Linux.Devices = []specs.LinuxDevice{kmsg}
			s.Linux.Resources.Devices = append(s.Linux.Resources.Devices,
				specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: &kmsgMajor, Minor: &kmsgMinor, Access: "w"})
		}, want: "opened\nnull-ok"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := &env{t: t, root: e.root, dir: e.dir}
			r := e.run(e.bundle(tc.edit, "sh", "-c", script))
			require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
			require.Equal(t, tc.want, strings.TrimSpace(r.stdout), "stderr: %s", r.stderr)
		})
	}
}

// TestDeviceRuleHoleRefused: a deny rule inside an earlier, wider allow
// rule is one the kernel silently ignores (the device would stay allowed);
// like runc, cmrun refuses the config instead.
func TestDeviceRuleHoleRefused(t *testing.T) {
	kmsgMajor, kmsgMinor := int64(1), int64(11)
	newEnv(t).requireCreateFails([]badConfig{{
		name: "deny c 1:11 after allow c *:*",
		edit: func(s *specs.Spec) {
			s.Linux.Resources.Devices = append(s.Linux.Resources.Devices,
				specs.LinuxDeviceCgroup{Allow: true, Type: "c", Access: "rwm"},
				specs.LinuxDeviceCgroup{Allow: false, Type: "c", Major: &kmsgMajor, Minor: &kmsgMinor, Access: "w"})
		},
		want: "linux.resources.devices[2]: deny c 1:11 w cannot be carved out of the earlier allow c *:* rwm",
	}})
}

// TestDeviceRulesUpdate: cmrun update leaves the device rules of a
// running container as they were created, as runc's update does, and the
// default devices stay usable.
func TestDeviceRulesUpdate(t *testing.T) {
	e := newEnv(t)
	bundle := e.bundle(func(s *specs.Spec) {
		s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/kmsg", Type: "c", Major: 1, Minor: 11}}
	}, "sleep", "300")
	id, _ := e.detached(bundle)
	kmsg := func() string {
		r := e.cmrun("exec", id, "sh", "-c", "if (echo cm-devices-test > /dev/kmsg) 2>/dev/null; then echo opened; else echo refused; fi; echo x > /dev/null && echo null-ok")
		require.Equal(t, 0, r.code, r.stderr)
		return strings.TrimSpace(r.stdout)
	}
	require.Equal(t, "refused\nnull-ok", kmsg())
	// As runc's update: device rules in the file are accepted, even ones it
	// would not parse ("rwa"), and change nothing: an update never opens a
	// device the container was created without.
	for _, rules := range []string{
		`[{"allow":true,"type":"c","major":1,"minor":11,"access":"w"}]`,
		`[{"allow":true,"access":"rwa"}]`,
	} {
		r := e.cmrunIn("", []byte(`{"devices":`+rules+`}`), "update", "--resources", "-", id)
		require.Equal(t, 0, r.code, r.stderr)
		require.Equal(t, "refused\nnull-ok", kmsg(), "after update with %s", rules)
	}
}
