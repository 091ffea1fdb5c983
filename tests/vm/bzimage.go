package vm

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os/exec"
)

// A bzImage is a small real-mode setup program followed by a
// decompressor and the compressed kernel (the "payload"). Under TCG the
// guest's own decompression costs several seconds per boot, so the
// harness unpacks the payload once, on the host, and boots the ELF
// vmlinux it contains directly (qemu uses the kernel's PVH entry point).
//
// Offsets below are from the x86 boot protocol
// (Documentation/arch/x86/boot.rst).
const (
	offSetupSects    = 0x1f1 // 1 byte: 512-byte sectors of setup code, after the boot sector
	offHeaderMagic   = 0x202 // "HdrS"
	offVersion       = 0x206 // 2 bytes: boot protocol version
	offPayloadOffset = 0x248 // 4 bytes: payload start, from the protected-mode code (protocol 2.08+)
	offPayloadLength = 0x24c // 4 bytes: payload length
	minVersion       = 0x0208
)

// compression is one way the kernel build may compress the payload.
type compression struct {
	name  string
	magic []byte
	// sizeTrailer: the kernel build appends the uncompressed size as
	// 4 little-endian bytes, which the decompressor must not see.
	sizeTrailer bool
	tool        []string // command reading the stream on stdin; nil means Go's gzip
}

var compressions = []compression{
	{name: "gzip", magic: []byte{0x1f, 0x8b}},
	{name: "xz", magic: []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}, sizeTrailer: true, tool: []string{"xz", "-dc", "--single-stream"}},
	{name: "zstd", magic: []byte{0x28, 0xb5, 0x2f, 0xfd}, sizeTrailer: true, tool: []string{"zstd", "-dcq"}},
}

// vmlinuxFromBzImage returns the uncompressed ELF kernel inside a bzImage.
func vmlinuxFromBzImage(bz []byte) ([]byte, error) {
	payload, err := bzImagePayload(bz)
	if err != nil {
		return nil, err
	}
	for _, c := range compressions {
		if bytes.HasPrefix(payload, c.magic) {
			vmlinux, err := decompress(c, payload)
			if err != nil {
				return nil, fmt.Errorf("decompress %s payload: %w", c.name, err)
			}
			if !bytes.HasPrefix(vmlinux, []byte("\x7fELF")) {
				return nil, fmt.Errorf("decompressed %s payload is not an ELF file", c.name)
			}
			return vmlinux, nil
		}
	}
	return nil, fmt.Errorf("bzImage payload starts with % x: compression not supported (gzip, xz, zstd are)", payload[:min(len(payload), 6)])
}

// bzImagePayload finds the compressed kernel using the setup header.
func bzImagePayload(bz []byte) ([]byte, error) {
	if len(bz) < offPayloadLength+4 || string(bz[offHeaderMagic:offHeaderMagic+4]) != "HdrS" {
		return nil, errors.New("not a bzImage: no HdrS setup header")
	}
	if v := binary.LittleEndian.Uint16(bz[offVersion:]); v < minVersion {
		return nil, fmt.Errorf("bzImage boot protocol %#x has no payload fields (need %#x)", v, minVersion)
	}
	setupSects := int(bz[offSetupSects])
	if setupSects == 0 { // the boot protocol says 0 means 4
		setupSects = 4
	}
	start := (setupSects+1)*512 + int(binary.LittleEndian.Uint32(bz[offPayloadOffset:]))
	end := start + int(binary.LittleEndian.Uint32(bz[offPayloadLength:]))
	if end > len(bz) || start >= end {
		return nil, fmt.Errorf("bzImage payload [%d, %d) lies outside the %d-byte file", start, end, len(bz))
	}
	return bz[start:end], nil
}

// decompress runs one payload through its decompressor and checks the
// size the kernel build recorded, when it recorded one.
func decompress(c compression, payload []byte) ([]byte, error) {
	want := -1
	if c.sizeTrailer {
		if len(payload) < 4 {
			return nil, errors.New("payload too short for its size trailer")
		}
		want = int(binary.LittleEndian.Uint32(payload[len(payload)-4:]))
		payload = payload[:len(payload)-4]
	}

	var out []byte
	if c.tool == nil {
		zr, err := gzip.NewReader(bytes.NewReader(payload))
		if err != nil {
			return nil, err
		}
		if out, err = io.ReadAll(zr); err != nil {
			return nil, err
		}
	} else {
		path, err := lookTool(c.tool[0])
		if err != nil {
			return nil, err
		}
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(path, c.tool[1:]...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(payload), &stdout, &stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("%s: %w: %s", c.tool[0], err, bytes.TrimSpace(stderr.Bytes()))
		}
		out = stdout.Bytes()
	}
	if want >= 0 && len(out) != want {
		return nil, fmt.Errorf("got %d bytes, the kernel build recorded %d", len(out), want)
	}
	return out, nil
}
