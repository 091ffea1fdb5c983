package vm

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseLdd(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		want    []string
		wantErr error
	}{
		{
			name: "cgo test binary",
			out: "\tlinux-vdso.so.1 (0x00007ffd1b5e2000)\n" +
				"\tlibseccomp.so.2 => /lib/x86_64-linux-gnu/libseccomp.so.2 (0x00007f0e1c2a0000)\n" +
				"\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f0e1c0bf000)\n" +
				"\t/lib64/ld-linux-x86-64.so.2 (0x00007f0e1c2e0000)\n",
			want: []string{"/lib/x86_64-linux-gnu/libseccomp.so.2", "/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"},
		},
		{name: "nothing", out: "", want: nil},
		{
			name:    "missing library",
			out:     "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x1)\n\tlibgone.so.1 => not found\n",
			wantErr: errLibraryNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseLdd(tt.out)
			require.ErrorIs(t, err, tt.wantErr)
			require.Equal(t, tt.want, got)
		})
	}
}

// TestSharedLibraries uses host programs: busybox-static and a script
// need no libraries, ls needs at least libc and the loader.
func TestSharedLibraries(t *testing.T) {
	busybox, _, err := staticBusybox()
	require.NoError(t, err)
	ls, err := filepath.EvalSymlinks("/bin/ls")
	require.NoError(t, err)

	script := filepath.Join(t.TempDir(), "script")
	require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\necho hi\n"), 0o755))

	tests := []struct {
		name      string
		binary    string
		wantBases []string // file names that must be among the results
		wantNone  bool
	}{
		{name: "static busybox", binary: busybox, wantNone: true},
		{name: "script", binary: script, wantNone: true},
		{name: "dynamic ls", binary: ls, wantBases: []string{"libc.so.6", "ld-linux-x86-64.so.2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			libs, err := sharedLibraries(tt.binary)
			require.NoError(t, err)
			if tt.wantNone {
				require.Empty(t, libs)
				return
			}
			var bases []string
			for _, l := range libs {
				require.True(t, filepath.IsAbs(l), l)
				_, err := os.Stat(l)
				require.NoError(t, err)
				bases = append(bases, filepath.Base(l))
			}
			require.Subset(t, bases, tt.wantBases)
		})
	}
}
