package vm

import (
	"os"
	"path"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestWriteInitramfs builds a root filesystem around a dynamically
// linked host program (ls) and reads the archive back.
func TestWriteInitramfs(t *testing.T) {
	dir := t.TempDir()
	extra := filepath.Join(dir, "extra.txt")
	require.NoError(t, os.WriteFile(extra, []byte("extra file"), 0o640))
	ls, err := filepath.EvalSymlinks("/bin/ls")
	require.NoError(t, err)
	lsData, err := os.ReadFile(ls)
	require.NoError(t, err)

	tests := []struct {
		name    string
		files   map[string]string
		binary  string
		wantErr string
	}{
		{name: "program, libraries and an extra file", files: map[string]string{extra: "/etc/deep/dir/extra.txt"}, binary: ls},
		{name: "extra file over a busybox applet", files: map[string]string{extra: "/bin/sh"}, binary: ls, wantErr: "guest path /bin/sh added twice"},
		{name: "extra file that is a directory", files: map[string]string{dir: "/x"}, binary: ls, wantErr: "not a regular file"},
		{name: "missing extra file", files: map[string]string{filepath.Join(dir, "nope"): "/x"}, binary: ls, wantErr: "no such file"},
		{name: "missing program", binary: filepath.Join(dir, "nope"), wantErr: "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "initramfs.cpio")
			err := writeInitramfs(dst, initramfsContents{Init: "#!/bin/sh\necho init\n", Binary: tt.binary, Files: tt.files})
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			archive, err := os.ReadFile(dst)
			require.NoError(t, err)

			got := map[string]cpioEntry{}
			for _, e := range readCPIO(t, archive) {
				if parent := path.Dir(e.name); parent != "." {
					require.Contains(t, got, parent, "%s comes after its directory", e.name)
					require.Equal(t, uint32(0o040000), got[parent].mode&cpioType)
				}
				got[e.name] = e
			}
			require.Equal(t, cpioEntry{name: "init", mode: 0o100755, data: "#!/bin/sh\necho init\n"}, got["init"])
			require.Equal(t, string(lsData), got["test.bin"].data)
			require.Equal(t, uint32(0o100640), got["etc/deep/dir/extra.txt"].mode)
			require.Equal(t, "extra file", got["etc/deep/dir/extra.txt"].data)
			require.Equal(t, cpioEntry{name: "bin/sh", mode: 0o120777, data: "/bin/busybox"}, got["bin/sh"])
			require.Equal(t, uint32(0o041777), got["tmp"].mode)
			require.Contains(t, got, "bin/busybox")
			libs, err := sharedLibraries(ls)
			require.NoError(t, err)
			require.NotEmpty(t, libs)
			for _, l := range libs {
				require.Contains(t, got, l[1:], "library %s is in the guest at the same path", l)
				require.Equal(t, uint32(0o100000), got[l[1:]].mode&cpioType, "%s is a regular file, not a symlink", l)
			}
		})
	}
}
