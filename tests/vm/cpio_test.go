package vm

import (
	"bytes"
	"io/fs"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// cpioEntry is one entry as readCPIO decodes it.
type cpioEntry struct {
	name string
	mode uint32
	data string
}

// readCPIO decodes a newc archive independently of cpioWriter, checking
// the magic and the 4-byte alignment the kernel insists on.
func readCPIO(t *testing.T, b []byte) []cpioEntry {
	t.Helper()
	var entries []cpioEntry
	off := 0
	field := func(i int) int {
		v, err := strconv.ParseUint(string(b[off+6+8*i:off+14+8*i]), 16, 32)
		require.NoError(t, err)
		return int(v)
	}
	align := func(n int) int { return (n + 3) &^ 3 }
	for {
		require.LessOrEqual(t, off+110, len(b), "truncated header")
		require.Equal(t, "070701", string(b[off:off+6]), "magic at %d", off)
		mode, size, namesize := field(1), field(6), field(11)
		name := string(b[off+110 : off+110+namesize-1])
		require.Equal(t, byte(0), b[off+110+namesize-1], "name is NUL-terminated")
		dataStart := align(off + 110 + namesize)
		off = align(dataStart + size)
		if name == "TRAILER!!!" {
			require.Equal(t, len(b), off, "nothing after the trailer")
			return entries
		}
		entries = append(entries, cpioEntry{name: name, mode: uint32(mode), data: string(b[dataStart : dataStart+size])})
	}
}

func TestCPIOWriter(t *testing.T) {
	tests := []struct {
		name  string
		write func(c *cpioWriter) error
		want  []cpioEntry
	}{
		{
			name:  "empty archive is just the trailer",
			write: func(c *cpioWriter) error { return nil },
			want:  nil,
		},
		{
			name: "directory, file and symlink",
			write: func(c *cpioWriter) error {
				require.NoError(t, c.Dir("bin", 0o755))
				require.NoError(t, c.File("bin/hello", 0o755, []byte("#!/bin/sh\necho hi\n")))
				return c.Symlink("bin/sh", "/bin/busybox")
			},
			want: []cpioEntry{
				{name: "bin", mode: 0o040755},
				{name: "bin/hello", mode: 0o100755, data: "#!/bin/sh\necho hi\n"},
				{name: "bin/sh", mode: 0o120777, data: "/bin/busybox"},
			},
		},
		{
			// Names and data of every length modulo 4 exercise the padding.
			name: "padding",
			write: func(c *cpioWriter) error {
				for _, s := range []string{"a", "ab", "abc", "abcd"} {
					require.NoError(t, c.File(s, 0o600, []byte(s)))
				}
				return nil
			},
			want: []cpioEntry{
				{name: "a", mode: 0o100600, data: "a"},
				{name: "ab", mode: 0o100600, data: "ab"},
				{name: "abc", mode: 0o100600, data: "abc"},
				{name: "abcd", mode: 0o100600, data: "abcd"},
			},
		},
		{
			name: "sticky and setuid bits",
			write: func(c *cpioWriter) error {
				require.NoError(t, c.Dir("tmp", 0o777|fs.ModeSticky))
				return c.File("su", 0o755|fs.ModeSetuid, nil)
			},
			want: []cpioEntry{{name: "tmp", mode: 0o041777}, {name: "su", mode: 0o104755}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			c := newCPIOWriter(&buf)
			require.NoError(t, tt.write(c))
			require.NoError(t, c.Close())
			require.Equal(t, tt.want, readCPIO(t, buf.Bytes()))
		})
	}
}
