package cgroupfs

import "golang.org/x/sys/unix"

// cgroup v2 has no devices.allow: the kernel instead runs the eBPF
// programs of type BPF_PROG_TYPE_CGROUP_DEVICE attached to the cgroup
// each time one of its processes opens or mknods a device, and refuses
// with EPERM when a program returns 0. This file writes that program for
// a deviceRuleSet, instruction by instruction (the format is in the
// kernel's Documentation/bpf/standardization/instruction-set.rst).
//
// The program gets in register R1 a pointer to
//
//	struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; };
//
// where access_type is (access << 16) | type, access being the
// BPF_DEVCG_ACC_* bits asked for and type BPF_DEVCG_DEV_CHAR or _BLOCK.
// It tests the exceptions one after the other and returns at the first
// that matches, the opposite of the default; if none matches, the
// default. A match follows the v1 controller's rules: with a deny-all
// default, an exception must grant all the access asked for; with an
// allow-all default, an exception refuses if it denies any of it.

// bpfInsn is one eBPF instruction, laid out as the kernel's struct
// bpf_insn: an opcode, the destination register in the low nibble and
// the source register in the high nibble of one byte (the layout on the
// little-endian machines cm runs on), a jump offset and an immediate.
type bpfInsn struct {
	code uint8
	regs uint8
	off  int16
	imm  int32
}

// The registers the program uses.
const (
	r0 = 0 // return value
	r1 = 1 // context pointer at entry, then scratch
	r2 = 2 // device type
	r3 = 3 // access asked for
	r4 = 4 // major
	r5 = 5 // minor
)

// Instruction constructors, one per kind the program needs. The ALU and
// jump instructions work on the low 32 bits (BPF_ALU, BPF_JMP32), the
// width of the context's fields.

// loadWord: dst = *(u32 *)(src + off).
func loadWord(dst, src uint8, off int16) bpfInsn {
	return bpfInsn{code: unix.BPF_LDX | unix.BPF_MEM | unix.BPF_W, regs: dst | src<<4, off: off}
}

// aluImm: dst = dst <op> imm, op one of BPF_AND, BPF_RSH, BPF_MOV.
func aluImm(op uint8, dst uint8, imm int32) bpfInsn {
	return bpfInsn{code: unix.BPF_ALU | op | unix.BPF_K, regs: dst, imm: imm}
}

// movReg: dst = src.
func movReg(dst, src uint8) bpfInsn {
	return bpfInsn{code: unix.BPF_ALU | unix.BPF_MOV | unix.BPF_X, regs: dst | src<<4}
}

// jumpImm: if dst <op> imm, skip the next off instructions; op BPF_JNE or
// BPF_JEQ. The offset is filled in once the block's length is known.
func jumpImm(op uint8, dst uint8, imm int32) bpfInsn {
	return bpfInsn{code: unix.BPF_JMP32 | op | unix.BPF_K, regs: dst, imm: imm}
}

// exit returns R0 to the kernel.
func exit() bpfInsn { return bpfInsn{code: unix.BPF_JMP | unix.BPF_EXIT} }

// returnVerdict sets R0 to 1 (allow) or 0 (refuse) and returns.
func returnVerdict(allow bool) []bpfInsn {
	v := int32(0)
	if allow {
		v = 1
	}
	return []bpfInsn{aluImm(unix.BPF_MOV, r0, v), exit()}
}

// deviceFilter is the program that enforces s.
func deviceFilter(s *deviceRuleSet) []bpfInsn {
	prog := []bpfInsn{
		loadWord(r2, r1, 0), aluImm(unix.BPF_AND, r2, 0xffff), // R2 = type
		loadWord(r3, r1, 0), aluImm(unix.BPF_RSH, r3, 16), // R3 = access
		loadWord(r4, r1, 4), // R4 = major
		loadWord(r5, r1, 8), // R5 = minor
	}
	for _, e := range s.ordered() {
		prog = append(prog, exceptionBlock(e, s.defaultAllow)...)
	}
	return append(prog, returnVerdict(s.defaultAllow)...)
}

// exceptionBlock tests one exception: each test that fails jumps past the
// end of the block, to the next exception; if all pass, the block returns.
func exceptionBlock(e deviceException, defaultAllow bool) []bpfInsn {
	typ := int32(unix.BPF_DEVCG_DEV_CHAR)
	if e.key.typ == 'b' {
		typ = unix.BPF_DEVCG_DEV_BLOCK
	}
	block := []bpfInsn{jumpImm(unix.BPF_JNE, r2, typ)}
	switch {
	case defaultAllow:
		// A deny exception matches if any access asked for is denied:
		// skip if (R3 & access) == 0.
		block = append(block, movReg(r1, r3), aluImm(unix.BPF_AND, r1, int32(e.access)), jumpImm(unix.BPF_JEQ, r1, 0))
	case e.access != accessAll:
		// An allow exception matches if it grants all the access asked
		// for: skip if (R3 & ^access) != 0. With rwm it always does.
		block = append(block, movReg(r1, r3), aluImm(unix.BPF_AND, r1, int32(accessAll&^e.access)), jumpImm(unix.BPF_JNE, r1, 0))
	}
	if e.key.major != anyNumber {
		// The immediate is the number's 32 bits; the 32-bit compare makes
		// a number above MaxInt32 still compare as unsigned.
		block = append(block, jumpImm(unix.BPF_JNE, r4, int32(uint32(e.key.major))))
	}
	if e.key.minor != anyNumber {
		block = append(block, jumpImm(unix.BPF_JNE, r5, int32(uint32(e.key.minor))))
	}
	block = append(block, returnVerdict(!defaultAllow)...)
	// Every jump so far lands just past the block: its offset counts the
	// instructions after it.
	for i := range block {
		if block[i].code&0x07 == unix.BPF_JMP32 {
			block[i].off = int16(len(block) - 1 - i)
		}
	}
	return block
}
