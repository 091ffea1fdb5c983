package seccomp

import (
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// actions maps the OCI action names to libseccomp's. SCMP_ACT_KILL is the
// old name of KILL_THREAD, in the spec as in libseccomp.
var actions = map[specs.LinuxSeccompAction]libseccomp.ScmpAction{
	specs.ActAllow:       libseccomp.ActAllow,
	specs.ActErrno:       libseccomp.ActErrno,
	specs.ActKill:        libseccomp.ActKillThread,
	specs.ActKillThread:  libseccomp.ActKillThread,
	specs.ActKillProcess: libseccomp.ActKillProcess,
	specs.ActTrap:        libseccomp.ActTrap,
	specs.ActLog:         libseccomp.ActLog,
	specs.ActTrace:       libseccomp.ActTrace,
	specs.ActNotify:      libseccomp.ActNotify,
}

// operators maps the OCI comparison names to libseccomp's. For
// SCMP_CMP_MASKED_EQ, value is the mask and valueTwo the value the masked
// argument must equal, as in libseccomp's C API.
var operators = map[specs.LinuxSeccompOperator]libseccomp.ScmpCompareOp{
	specs.OpNotEqual:     libseccomp.CompareNotEqual,
	specs.OpLessThan:     libseccomp.CompareLess,
	specs.OpLessEqual:    libseccomp.CompareLessOrEqual,
	specs.OpEqualTo:      libseccomp.CompareEqual,
	specs.OpGreaterEqual: libseccomp.CompareGreaterEqual,
	specs.OpGreaterThan:  libseccomp.CompareGreater,
	specs.OpMaskedEqual:  libseccomp.CompareMaskedEqual,
}

// architectures maps the OCI architecture names to libseccomp's. Whether
// the installed libseccomp supports one is only known when it is added.
var architectures = map[specs.Arch]libseccomp.ScmpArch{
	specs.ArchX86:         libseccomp.ArchX86,
	specs.ArchX86_64:      libseccomp.ArchAMD64,
	specs.ArchX32:         libseccomp.ArchX32,
	specs.ArchARM:         libseccomp.ArchARM,
	specs.ArchAARCH64:     libseccomp.ArchARM64,
	specs.ArchMIPS:        libseccomp.ArchMIPS,
	specs.ArchMIPS64:      libseccomp.ArchMIPS64,
	specs.ArchMIPS64N32:   libseccomp.ArchMIPS64N32,
	specs.ArchMIPSEL:      libseccomp.ArchMIPSEL,
	specs.ArchMIPSEL64:    libseccomp.ArchMIPSEL64,
	specs.ArchMIPSEL64N32: libseccomp.ArchMIPSEL64N32,
	specs.ArchPPC:         libseccomp.ArchPPC,
	specs.ArchPPC64:       libseccomp.ArchPPC64,
	specs.ArchPPC64LE:     libseccomp.ArchPPC64LE,
	specs.ArchS390:        libseccomp.ArchS390,
	specs.ArchS390X:       libseccomp.ArchS390X,
	specs.ArchPARISC:      libseccomp.ArchPARISC,
	specs.ArchPARISC64:    libseccomp.ArchPARISC64,
	specs.ArchRISCV64:     libseccomp.ArchRISCV64,
	specs.ArchLOONGARCH64: libseccomp.ArchLOONGARCH64,
	specs.ArchM68K:        libseccomp.ArchM68K,
	specs.ArchSH:          libseccomp.ArchSH,
	specs.ArchSHEB:        libseccomp.ArchSHEB,
}

// The seccomp(2) flags a profile may ask for. TSYNC is always in force
// (see the package comment), so asking for it changes nothing.
const (
	flagTSYNC = specs.LinuxSeccompFlag("SECCOMP_FILTER_FLAG_TSYNC")
)

// unsupportedFlags are real seccomp(2) flags a profile may not ask for:
// Build sets NEW_LISTENER and TSYNC_ESRCH itself when a rule notifies,
// and WAIT_KILLABLE_RECV is not implemented (runc 1.1.5 refuses it too).
var unsupportedFlags = map[specs.LinuxSeccompFlag]bool{
	specs.LinuxSeccompFlagWaitKillableRecv: true,
	"SECCOMP_FILTER_FLAG_NEW_LISTENER":     true,
	"SECCOMP_FILTER_FLAG_TSYNC_ESRCH":      true,
}

// maxErrno is the largest errno the kernel returns from a filter; larger
// values are silently clamped to it (MAX_ERRNO in linux/err.h).
const maxErrno = 4095

// takesErrno tells whether an action carries a return value: the errno
// for ERRNO, the message to the tracer for TRACE.
func takesErrno(a specs.LinuxSeccompAction) bool {
	return a == specs.ActErrno || a == specs.ActTrace
}

// toAction converts a validated OCI action and its optional errno.
// As the spec says, ERRNO and TRACE default to EPERM.
func toAction(a specs.LinuxSeccompAction, errnoRet *uint) libseccomp.ScmpAction {
	act := actions[a]
	if takesErrno(a) {
		errno := uint(unix.EPERM)
		if errnoRet != nil {
			errno = *errnoRet
		}
		act = act.SetReturnCode(int16(errno))
	}
	return act
}

// Supported lists, sorted, the actions, operators, architectures and
// flags profiles may use here: what "cmrun features" reports.
func Supported() (actionNames, operatorNames, archNames, flagNames []string) {
	for a := range actions {
		actionNames = append(actionNames, string(a))
	}
	for o := range operators {
		operatorNames = append(operatorNames, string(o))
	}
	for a := range architectures {
		archNames = append(archNames, string(a))
	}
	flagNames = []string{string(specs.LinuxSeccompFlagLog), string(specs.LinuxSeccompFlagSpecAllow), string(flagTSYNC)}
	sort.Strings(actionNames)
	sort.Strings(operatorNames)
	sort.Strings(archNames)
	sort.Strings(flagNames)
	return
}
