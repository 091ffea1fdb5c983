package shim

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"
)

func TestWithInit(t *testing.T) {
	initMount := specs.Mount{Destination: InitPath, Type: "bind", Source: "/opt/cm/cminit", Options: []string{"bind", "ro"}}
	tests := []struct {
		name       string
		spec       specs.Spec
		changed    bool
		wantArgs   []string
		wantMounts int
	}{
		{
			name:    "prefixes the program and adds the mount",
			spec:    specs.Spec{Process: &specs.Process{Args: []string{"sleep", "10"}}, Mounts: []specs.Mount{{Destination: "/proc"}}},
			changed: true, wantArgs: []string{InitPath, "--", "sleep", "10"}, wantMounts: 2,
		},
		{
			name:    "a bundle already set up is left alone",
			spec:    specs.Spec{Process: &specs.Process{Args: []string{InitPath, "--", "sleep"}}, Mounts: []specs.Mount{initMount}},
			changed: false, wantArgs: []string{InitPath, "--", "sleep"}, wantMounts: 1,
		},
		{name: "no process", spec: specs.Spec{}, changed: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.spec
			require.Equal(t, tc.changed, withInit(&s, "/opt/cm/cminit"))
			if s.Process != nil {
				require.Equal(t, tc.wantArgs, s.Process.Args)
			}
			require.Len(t, s.Mounts, tc.wantMounts)
			if tc.changed {
				require.Equal(t, initMount, s.Mounts[len(s.Mounts)-1])
			}
		})
	}
}
