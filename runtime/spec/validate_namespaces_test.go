package spec

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"
)

// TestCheckNamespaceTypes: every OCI namespace type is accepted, and an
// unknown one is refused with the full list, as before the table existed.
func TestCheckNamespaceTypes(t *testing.T) {
	tests := []struct {
		typ  specs.LinuxNamespaceType
		want string
	}{
		{specs.PIDNamespace, ""}, {specs.NetworkNamespace, ""}, {specs.MountNamespace, ""},
		{specs.IPCNamespace, ""}, {specs.UTSNamespace, ""}, {specs.UserNamespace, ""},
		{specs.CgroupNamespace, ""}, {specs.TimeNamespace, ""},
		{"nope", `config.json: linux.namespaces[0].type: unknown namespace type "nope" (want one of cgroup, ipc, mount, network, pid, time, user, uts)`},
	}
	for _, tt := range tests {
		s := &specs.Spec{Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: tt.typ}}}}
		err := checkNamespaces(s)
		if tt.want == "" {
			require.NoError(t, err, tt.typ)
			continue
		}
		require.EqualError(t, err, tt.want)
	}
}
