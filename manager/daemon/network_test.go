package daemon

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"

	rtspec "cm/runtime/spec"
)

// TestApplyNetwork: host drops the network namespace, none and bridge
// join the daemon's bind-mounted one, the default leaves the config alone.
func TestApplyNetwork(t *testing.T) {
	netns := func(s *specs.Spec) []specs.LinuxNamespace {
		var out []specs.LinuxNamespace
		for _, ns := range s.Linux.Namespaces {
			if ns.Type == specs.NetworkNamespace {
				out = append(out, ns)
			}
		}
		return out
	}
	for _, tc := range []struct {
		mode string
		want []specs.LinuxNamespace
	}{
		{"", []specs.LinuxNamespace{{Type: specs.NetworkNamespace}}},
		{"host", nil},
		{"none", []specs.LinuxNamespace{{Type: specs.NetworkNamespace, Path: "/state/c/netns"}}},
		{"bridge", []specs.LinuxNamespace{{Type: specs.NetworkNamespace, Path: "/state/c/netns"}}},
	} {
		spec := rtspec.DefaultSpec()
		others := len(spec.Linux.Namespaces) - 1
		applyNetwork(spec, tc.mode, "/state/c/netns")
		require.Equal(t, tc.want, netns(spec), "mode %q", tc.mode)
		require.Len(t, spec.Linux.Namespaces, others+len(tc.want), "mode %q: the other namespaces stay", tc.mode)
	}
	require.Equal(t, "/state/c/netns", netnsPath("/state/c/bundle"))
}
