package seccomp

import (
	goruntime "runtime"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// enosysStub returns the BPF instructions that go before a profile's
// program so that, on the native architecture, a syscall numbered above
// every syscall the profile names fails with ENOSYS rather than the
// profile's default errno. Such a syscall is newer than the profile, and
// ENOSYS is what tells a program (glibc, Go) to fall back to an older
// call; EPERM reads as a refusal. runc does the same. A profile whose
// default allows, or already answers ENOSYS, needs no stub; nor does an
// architecture this table does not know (the profile's answer stands).
func enosysStub(s *specs.LinuxSeccomp, native libseccomp.ScmpArch) []unix.SockFilter {
	switch s.DefaultAction {
	case specs.ActAllow, specs.ActLog:
		return nil
	}
	if s.DefaultErrnoRet != nil && *s.DefaultErrnoRet == uint(unix.ENOSYS) {
		return nil
	}
	audit, ok := auditArch[goruntime.GOARCH]
	if !ok {
		return nil
	}
	var last int32
	for _, sc := range s.Syscalls {
		for _, name := range sc.Names {
			if nr, err := libseccomp.GetSyscallFromNameByArch(name, native); err == nil && int32(nr) > last {
				last = int32(nr)
			}
		}
	}
	if last == 0 {
		return nil
	}
	// Each jump counts instructions from the next one; "toFilter" is
	// patched once the stub's length is known.
	const (
		ldAbs  = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeq    = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		jgt    = unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K
		jset   = unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K
		ret    = unix.BPF_RET | unix.BPF_K
		offNr  = 0 // offsetof(struct seccomp_data, nr)
		offArc = 4 // offsetof(struct seccomp_data, arch)
	)
	type insn struct {
		f                 unix.SockFilter
		trueToF, falseToF bool // jump to the filter when true / false
	}
	prog := []insn{
		{f: unix.SockFilter{Code: ldAbs, K: offArc}},
		{f: unix.SockFilter{Code: jeq, K: audit}, falseToF: true},
		{f: unix.SockFilter{Code: ldAbs, K: offNr}},
	}
	if goruntime.GOARCH == "amd64" {
		// x32 calls share the x86_64 arch value with bit 30 set in the
		// number: they have their own table, left to the filter.
		prog = append(prog, insn{f: unix.SockFilter{Code: jset, K: 1 << 30}, trueToF: true})
	}
	prog = append(prog,
		insn{f: unix.SockFilter{Code: jgt, K: uint32(last)}, falseToF: true},
		insn{f: unix.SockFilter{Code: ret, K: unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)}},
	)
	out := make([]unix.SockFilter, len(prog))
	for i, in := range prog {
		toFilter := uint8(len(prog) - i - 1)
		out[i] = in.f
		if in.trueToF {
			out[i].Jt = toFilter
		}
		if in.falseToF {
			out[i].Jf = toFilter
		}
	}
	return out
}

// auditArch is the kernel's AUDIT_ARCH value of the native architecture,
// which seccomp_data.arch holds.
var auditArch = map[string]uint32{
	"amd64":   unix.AUDIT_ARCH_X86_64,
	"arm64":   unix.AUDIT_ARCH_AARCH64,
	"ppc64le": unix.AUDIT_ARCH_PPC64LE,
	"riscv64": unix.AUDIT_ARCH_RISCV64,
}
