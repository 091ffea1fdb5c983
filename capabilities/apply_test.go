package capabilities

import (
	"os"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

const busybox = "/bin/busybox"

// secbitNoCapAmbientRaise forbids raising ambient capabilities
// (SECBIT_NO_CAP_AMBIENT_RAISE in linux/securebits.h).
const secbitNoCapAmbientRaise = 1 << 6

// mustMask is Mask for names the test knows are right.
func mustMask(t *testing.T, names ...string) uint64 {
	t.Helper()
	m, err := Mask(names)
	require.NoError(t, err)
	return m
}

// status builds the Cap* lines of /proc/PID/status a test expects.
func status(bnd, eff, prm, inh, amb uint64) map[string]uint64 {
	return map[string]uint64{"CapBnd": bnd, "CapEff": eff, "CapPrm": prm, "CapInh": inh, "CapAmb": amb}
}

func TestApply(t *testing.T) {
	_, err := os.Stat(busybox)
	require.NoError(t, err, "install busybox-static")

	// The capabilities a typical container keeps; no CAP_SYS_ADMIN, no CAP_NET_RAW.
	typical := []string{
		"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_SETGID",
		"CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
		"CAP_KILL", "CAP_AUDIT_WRITE",
	}
	withAdminAndRaw := append([]string{"CAP_SYS_ADMIN", "CAP_NET_RAW"}, typical...)
	chownBind := mustMask(t, "CAP_CHOWN", "CAP_NET_BIND_SERVICE")
	bind := mustMask(t, "CAP_NET_BIND_SERVICE")
	chown := mustMask(t, "CAP_CHOWN")

	tests := []struct {
		name         string
		cfg          childConfig
		wantErr      string
		wantStatus   map[string]uint64 // on the init's thread, before exec
		wantExec     map[string]uint64 // in the exec'd busybox
		wantWarnings []string
		wantMount    unix.Errno
		wantRawSock  unix.Errno
	}{
		{
			name: "non-root user gets ambient capabilities through keep-caps",
			cfg: childConfig{
				Caps: &specs.LinuxCapabilities{
					Bounding:    []string{"CAP_CHOWN", "CAP_NET_BIND_SERVICE"},
					Effective:   []string{"CAP_CHOWN", "CAP_NET_BIND_SERVICE"},
					Permitted:   []string{"CAP_CHOWN", "CAP_NET_BIND_SERVICE"},
					Inheritable: []string{"CAP_NET_BIND_SERVICE"},
					Ambient:     []string{"CAP_NET_BIND_SERVICE"},
				},
				UID:  1000,
				Exec: []string{busybox, "grep", "^Cap", "/proc/self/status"},
			},
			wantStatus: status(chownBind, chownBind, chownBind, bind, bind),
			// A non-root program without file capabilities gets permitted =
			// effective = ambient at exec: CAP_CHOWN is gone, as designed.
			wantExec: status(chownBind, bind, bind, bind, bind),
		},
		{
			name: "root keeps exactly the listed capabilities",
			cfg: childConfig{
				Caps:  &specs.LinuxCapabilities{Bounding: typical, Effective: typical, Permitted: typical},
				Probe: true,
				Exec:  []string{busybox, "grep", "^Cap", "/proc/self/status"},
			},
			wantStatus: status(mustMask(t, typical...), mustMask(t, typical...), mustMask(t, typical...), 0, 0),
			wantExec:   status(mustMask(t, typical...), mustMask(t, typical...), mustMask(t, typical...), 0, 0),
			// Without CAP_SYS_ADMIN and CAP_NET_RAW even root cannot do these.
			wantMount:   unix.EPERM,
			wantRawSock: unix.EPERM,
		},
		{
			name: "control: with CAP_SYS_ADMIN and CAP_NET_RAW the probes succeed",
			cfg: childConfig{
				Caps:  &specs.LinuxCapabilities{Bounding: withAdminAndRaw, Effective: withAdminAndRaw, Permitted: withAdminAndRaw},
				Probe: true,
			},
			wantStatus: status(mustMask(t, withAdminAndRaw...), mustMask(t, withAdminAndRaw...), mustMask(t, withAdminAndRaw...), 0, 0),
		},
		{
			name: "a capability the host lacks is a warning, not a failure",
			cfg: childConfig{
				Caps: &specs.LinuxCapabilities{
					Bounding:  []string{"CAP_CHOWN", "CAP_SYS_RESOURCE"},
					Effective: []string{"CAP_CHOWN", "CAP_SYS_RESOURCE"},
					Permitted: []string{"CAP_CHOWN", "CAP_SYS_RESOURCE"},
				},
				RemoveFirst: []string{"CAP_SYS_RESOURCE"}, // as on a host whose root lacks it
			},
			wantStatus: status(chown, chown, chown, 0, 0),
			wantWarnings: []string{
				"CAP_SYS_RESOURCE (bounding): the calling thread does not hold it, not granted",
				"CAP_SYS_RESOURCE (effective, permitted): the calling thread does not hold it, not granted",
			},
		},
		{
			name: "dropping the bounding set without CAP_SETPCAP fails loudly",
			cfg: childConfig{
				Caps:        &specs.LinuxCapabilities{Bounding: []string{"CAP_CHOWN"}},
				RemoveFirst: []string{"CAP_SETPCAP"},
			},
			wantErr: "drop CAP_DAC_OVERRIDE from the bounding set: operation not permitted (needs CAP_SETPCAP in the effective set: drop before changing user)",
		},
		{
			name: "an ambient capability the kernel refuses fails loudly",
			cfg: childConfig{
				Caps: &specs.LinuxCapabilities{
					Bounding: []string{"CAP_NET_BIND_SERVICE"}, Permitted: []string{"CAP_NET_BIND_SERVICE"},
					Inheritable: []string{"CAP_NET_BIND_SERVICE"}, Ambient: []string{"CAP_NET_BIND_SERVICE"},
				},
				SecureBits: secbitNoCapAmbientRaise,
			},
			wantErr: "raise ambient CAP_NET_BIND_SERVICE: operation not permitted",
		},
		{
			name: "forgetting DropBounding is caught",
			cfg: childConfig{
				Caps:             &specs.LinuxCapabilities{Bounding: []string{"CAP_CHOWN"}},
				SkipDropBounding: true,
			},
			wantErr: "bounding set still holds CAP_DAC_OVERRIDE, ",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, execOut := runChildTest(t, tt.cfg)
			if tt.wantErr != "" {
				require.Contains(t, r.Err, tt.wantErr)
				return
			}
			require.Empty(t, r.Err)
			require.Equal(t, tt.wantStatus, r.Status)
			require.Equal(t, tt.wantWarnings, r.Warnings)
			if tt.cfg.Probe {
				require.Equal(t, int(tt.wantMount), r.MountErrno, "mount errno")
				require.Equal(t, int(tt.wantRawSock), r.RawSockErrno, "raw socket errno")
			}
			if tt.wantExec != nil {
				got, err := parseCapStatus([]byte(execOut))
				require.NoError(t, err)
				require.Equal(t, tt.wantExec, got)
			}
		})
	}
}

func TestNilCapabilitiesLeaveTheThreadAlone(t *testing.T) {
	mine, err := os.ReadFile("/proc/thread-self/status")
	require.NoError(t, err)
	want, err := parseCapStatus(mine)
	require.NoError(t, err)
	r, _ := runChildTest(t, childConfig{Caps: nil})
	require.Empty(t, r.Err)
	require.Equal(t, want, r.Status)
}
