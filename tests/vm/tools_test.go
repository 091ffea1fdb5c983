package vm

import (
	"os/exec"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLookTool(t *testing.T) {
	toolPackage["cm-vm-no-such-tool"] = "cm-vm-fake-package"
	t.Cleanup(func() { delete(toolPackage, "cm-vm-no-such-tool") })

	tests := []struct {
		name    string
		tool    string
		wantErr string
	}{
		{name: "installed", tool: "qemu-system-x86_64"},
		{name: "in sbin", tool: "dpkg-deb"},
		{name: "missing names its package", tool: "cm-vm-no-such-tool", wantErr: "cm-vm-no-such-tool not found: install it with `apt-get install cm-vm-fake-package`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, err := lookTool(tt.tool)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, ErrMissingPackage)
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.FileExists(t, path)
		})
	}
}

// TestHostPackages: every package a tool needs is in the list the lead's
// Makefile installs, or is part of every Debian system.
func TestHostPackages(t *testing.T) {
	essential := []string{"apt", "dpkg", "libc-bin"}
	for tool, pkg := range toolPackage {
		require.True(t, slices.Contains(HostPackages, pkg) || slices.Contains(essential, pkg), "%s's package %s", tool, pkg)
	}
	for _, pkg := range HostPackages {
		require.NoError(t, exec.Command("dpkg", "-s", pkg).Run(), "package %s is installed", pkg)
	}
}
