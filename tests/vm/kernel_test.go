package vm

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseKernelDepends(t *testing.T) {
	tests := []struct {
		name string
		out  string
		want string
	}{
		{name: "bookworm", out: "linux-image-amd64\n  Depends: linux-image-6.1.0-56-amd64\n", want: "linux-image-6.1.0-56-amd64"},
		{name: "alternative", out: "linux-image-amd64\n |Depends: linux-image-6.12.9-amd64\n  Depends: other\n", want: "linux-image-6.12.9-amd64"},
		{name: "other dependencies first", out: "linux-image-amd64\n  Depends: firmware-x\n  Depends: linux-image-6.1.0-9-amd64\n", want: "linux-image-6.1.0-9-amd64"},
		{name: "no kernel", out: "linux-image-amd64\n", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, parseKernelDepends(tt.out))
		})
	}
}

// TestEnsureKernelUsesCache: with the kernel already in the cache,
// EnsureKernel returns it untouched (a download would replace the
// stand-in with a real kernel). Without the link it asks apt which
// package is current and links that; with the link it asks nobody.
func TestEnsureKernelUsesCache(t *testing.T) {
	pkg, err := currentKernelPackage()
	require.NoError(t, err)

	tests := []struct {
		name     string
		pkg      string // the cached kernel's directory
		withLink bool
	}{
		{name: "kernel of the current package, no link yet", pkg: pkg},
		{name: "linked kernel, whatever its package", pkg: "linux-image-0.0.0-1-amd64", withLink: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache := t.TempDir()
			want := filepath.Join(cache, tt.pkg, "vmlinux")
			require.NoError(t, os.MkdirAll(filepath.Dir(want), 0o755))
			require.NoError(t, os.WriteFile(want, []byte("stand-in"), 0o644))
			if tt.withLink {
				require.NoError(t, os.Symlink(filepath.Join(tt.pkg, "vmlinux"), filepath.Join(cache, "vmlinux")))
			}

			got, err := EnsureKernel(cache)
			require.NoError(t, err)
			require.Equal(t, want, got)
			data, err := os.ReadFile(got)
			require.NoError(t, err)
			require.Equal(t, "stand-in", string(data))
			linked, err := filepath.EvalSymlinks(filepath.Join(cache, "vmlinux"))
			require.NoError(t, err)
			require.Equal(t, want, linked, "the link points at the kernel")
			_, err = os.Stat(filepath.Join(cache, tt.pkg, "vmlinuz"))
			require.ErrorIs(t, err, os.ErrNotExist, "nothing was downloaded")
		})
	}
}
