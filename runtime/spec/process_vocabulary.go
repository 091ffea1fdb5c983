package spec

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// rlimitTypes maps OCI rlimit names to setrlimit(2) resources.
var rlimitTypes = map[string]int{
	"RLIMIT_AS": unix.RLIMIT_AS, "RLIMIT_CORE": unix.RLIMIT_CORE, "RLIMIT_CPU": unix.RLIMIT_CPU,
	"RLIMIT_DATA": unix.RLIMIT_DATA, "RLIMIT_FSIZE": unix.RLIMIT_FSIZE, "RLIMIT_LOCKS": unix.RLIMIT_LOCKS,
	"RLIMIT_MEMLOCK": unix.RLIMIT_MEMLOCK, "RLIMIT_MSGQUEUE": unix.RLIMIT_MSGQUEUE, "RLIMIT_NICE": unix.RLIMIT_NICE,
	"RLIMIT_NOFILE": unix.RLIMIT_NOFILE, "RLIMIT_NPROC": unix.RLIMIT_NPROC, "RLIMIT_RSS": unix.RLIMIT_RSS,
	"RLIMIT_RTPRIO": unix.RLIMIT_RTPRIO, "RLIMIT_RTTIME": unix.RLIMIT_RTTIME, "RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING,
	"RLIMIT_STACK": unix.RLIMIT_STACK,
}

// ioprioClasses maps OCI I/O priority classes to ioprio_set(2) classes.
var ioprioClasses = map[specs.IOPriorityClass]int{
	specs.IOPRIO_CLASS_RT: 1, specs.IOPRIO_CLASS_BE: 2, specs.IOPRIO_CLASS_IDLE: 3,
}

// personalities maps OCI personality domains to personality(2) values.
var personalities = map[specs.LinuxPersonalityDomain]uintptr{
	specs.PerLinux: 0x0000, specs.PerLinux32: 0x0008,
}

// Rlimit is the setrlimit(2) resource of an OCI rlimit name.
func Rlimit(name string) (int, bool) {
	r, ok := rlimitTypes[name]
	return r, ok
}

// IOPriorityClass is the ioprio_set(2) class of an OCI I/O priority class.
func IOPriorityClass(c specs.IOPriorityClass) (int, bool) {
	v, ok := ioprioClasses[c]
	return v, ok
}

// Personality is the personality(2) value of an OCI personality domain.
func Personality(d specs.LinuxPersonalityDomain) (uintptr, bool) {
	v, ok := personalities[d]
	return v, ok
}
