package vm

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"
)

// fakeELF stands in for a vmlinux: only the magic is checked.
var fakeELF = append([]byte("\x7fELF"), bytes.Repeat([]byte("kernel text "), 1000)...)

// makeBzImage builds the parts of a bzImage the extractor reads: the
// setup header and a payload after two setup sectors.
func makeBzImage(version uint16, payload []byte) []byte {
	const setupSects, payloadOffset = 2, 100
	bz := make([]byte, (setupSects+1)*512+payloadOffset)
	bz[offSetupSects] = setupSects
	copy(bz[offHeaderMagic:], "HdrS")
	binary.LittleEndian.PutUint16(bz[offVersion:], version)
	binary.LittleEndian.PutUint32(bz[offPayloadOffset:], payloadOffset)
	binary.LittleEndian.PutUint32(bz[offPayloadLength:], uint32(len(payload)))
	return append(bz, payload...)
}

// compressWith runs a compressor and appends the size trailer the
// kernel build adds to xz and zstd payloads.
func compressWith(t *testing.T, data []byte, trailerSize int, tool ...string) []byte {
	t.Helper()
	cmd := exec.Command(tool[0], tool[1:]...)
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	require.NoError(t, err, "%v", tool)
	return binary.LittleEndian.AppendUint32(out, uint32(trailerSize))
}

func gzipped(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(data)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// truncated drops the last byte, which the header still counts.
func truncated(b []byte) []byte { return b[:len(b)-1] }

func TestVmlinuxFromBzImage(t *testing.T) {
	tests := []struct {
		name    string
		bz      []byte
		wantErr string // empty: expect fakeELF back
	}{
		{name: "gzip", bz: makeBzImage(0x020f, gzipped(t, fakeELF))},
		{name: "xz with size trailer", bz: makeBzImage(0x020f, compressWith(t, fakeELF, len(fakeELF), "xz", "-c", "--check=crc32"))},
		{name: "zstd with size trailer", bz: makeBzImage(0x020f, compressWith(t, fakeELF, len(fakeELF), "zstd", "-c", "-q"))},
		{name: "size trailer disagrees", bz: makeBzImage(0x020f, compressWith(t, fakeELF, 7, "xz", "-c")), wantErr: "the kernel build recorded 7"},
		{name: "not an ELF inside", bz: makeBzImage(0x020f, gzipped(t, []byte("hello"))), wantErr: "not an ELF file"},
		{name: "unknown compression", bz: makeBzImage(0x020f, []byte("BZh91AY&SY")), wantErr: "compression not supported"},
		{name: "no setup header", bz: make([]byte, 4096), wantErr: "no HdrS setup header"},
		{name: "old boot protocol", bz: makeBzImage(0x0206, gzipped(t, fakeELF)), wantErr: "has no payload fields"},
		{name: "payload past the end", bz: truncated(makeBzImage(0x020f, gzipped(t, fakeELF))), wantErr: "lies outside the"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := vmlinuxFromBzImage(tt.bz)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, fakeELF, got)
		})
	}
}
