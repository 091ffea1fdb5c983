package seccomp

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"

	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// Filter is a compiled profile: the BPF program the kernel runs on every
// system call, and the seccomp(2) flags to load it with. It is plain Go
// memory; nothing needs releasing.
type Filter struct {
	program []unix.SockFilter
	flags   uintptr
}

// Instructions is the length of the BPF program, worth logging: the
// kernel runs up to that many instructions on every system call, and
// refuses programs longer than maxInstructions.
func (f *Filter) Instructions() int {
	return len(f.program)
}

// maxInstructions is the kernel's limit on one BPF program (BPF_MAXINSNS).
const maxInstructions = 4096

// compile has libseccomp generate the BPF program. The binding can only
// write it to a file, so it goes through an anonymous memory file.
func compile(scmp *libseccomp.ScmpFilter) ([]unix.SockFilter, error) {
	fd, err := unix.MemfdCreate("cm-seccomp-bpf", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("create memory file for the BPF program: %w", err)
	}
	file := os.NewFile(uintptr(fd), "cm-seccomp-bpf")
	defer file.Close()
	if err := scmp.ExportBPF(file); err != nil {
		return nil, fmt.Errorf("generate the BPF program: %w", err)
	}
	raw, err := io.ReadAll(io.NewSectionReader(file, 0, 1<<30))
	if err != nil {
		return nil, fmt.Errorf("read the BPF program: %w", err)
	}
	return decodeProgram(raw)
}

// decodeProgram splits raw bytes into BPF instructions: struct
// sock_filter is a 16-bit opcode, two 8-bit jump offsets and a 32-bit
// operand, in the machine's byte order.
func decodeProgram(raw []byte) ([]unix.SockFilter, error) {
	const size = 8
	if len(raw)%size != 0 {
		return nil, fmt.Errorf("BPF program of %d bytes is not whole instructions", len(raw))
	}
	n := len(raw) / size
	if n == 0 || n > maxInstructions {
		return nil, fmt.Errorf("BPF program has %d instructions; the kernel takes 1 to %d", n, maxInstructions)
	}
	program := make([]unix.SockFilter, n)
	for i := range program {
		insn := raw[i*size : (i+1)*size]
		program[i] = unix.SockFilter{
			Code: binary.NativeEndian.Uint16(insn[0:2]),
			Jt:   insn[2],
			Jf:   insn[3],
			K:    binary.NativeEndian.Uint32(insn[4:8]),
		}
	}
	return program, nil
}

// MarshalBinary encodes the filter (flags, then the instructions) so cmrun
// can compile a profile once, in the parent, and hand the result to the
// container init, which only loads it.
func (f *Filter) MarshalBinary() ([]byte, error) {
	out := binary.NativeEndian.AppendUint64(nil, uint64(f.flags))
	for _, insn := range f.program {
		out = binary.NativeEndian.AppendUint16(out, insn.Code)
		out = append(out, insn.Jt, insn.Jf)
		out = binary.NativeEndian.AppendUint32(out, insn.K)
	}
	return out, nil
}

// UnmarshalBinary is the inverse of MarshalBinary.
func (f *Filter) UnmarshalBinary(data []byte) error {
	if len(data) < 8 {
		return fmt.Errorf("seccomp filter of %d bytes is too short", len(data))
	}
	program, err := decodeProgram(data[8:])
	if err != nil {
		return err
	}
	f.flags = uintptr(binary.NativeEndian.Uint64(data[:8]))
	f.program = program
	return nil
}

// programFormat changes whenever Build would compile the same profile
// differently, so cached programs from an older cm are not reused.
const programFormat = "cm-seccomp-3" // 3: the ENOSYS stub

// CompilerVersion names what turns profiles into programs: this package's
// format and the libseccomp it links. Callers that cache compiled
// programs make it part of the key.
func CompilerVersion() string {
	major, minor, micro := libseccomp.GetLibraryVersion()
	return fmt.Sprintf("%s libseccomp %d.%d.%d", programFormat, major, minor, micro)
}
