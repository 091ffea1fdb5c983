package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"cm/runtime/spec"
)

// setRlimits applies process.rlimits to the init (and so to what it execs).
func setRlimits(rl []specs.POSIXRlimit) error {
	for _, r := range rl {
		// syscall's Setrlimit, not unix's: the Go runtime raised its own
		// soft RLIMIT_NOFILE at start and puts the old one back before
		// every exec, unless the program set the limit through syscall.
		lim := syscall.Rlimit{Cur: r.Soft, Max: r.Hard}
		resource, _ := spec.Rlimit(r.Type) // validated
		if err := syscall.Setrlimit(resource, &lim); err != nil {
			// Raising a hard limit needs CAP_SYS_RESOURCE; say so, it is the usual cause.
			return fmt.Errorf("process.rlimits %s soft=%d hard=%d: %w (raising a hard limit needs CAP_SYS_RESOURCE)", r.Type, r.Soft, r.Hard, err)
		}
	}
	return nil
}

func setIOPriority(p *specs.LinuxIOPriority) error {
	if p == nil {
		return nil
	}
	const ioprioWhoProcess = 1
	class, _ := spec.IOPriorityClass(p.Class) // validated
	prio := class<<13 | p.Priority
	if _, _, errno := unix.Syscall(unix.SYS_IOPRIO_SET, ioprioWhoProcess, 0, uintptr(prio)); errno != 0 {
		return fmt.Errorf("process.ioPriority: %w", errno)
	}
	return nil
}

func setPersonality(p *specs.LinuxPersonality) error {
	if p == nil {
		return nil
	}
	persona, _ := spec.Personality(p.Domain) // validated
	if _, _, errno := unix.Syscall(unix.SYS_PERSONALITY, persona, 0, 0); errno != 0 {
		return fmt.Errorf("linux.personality: %w", errno)
	}
	return nil
}

// setUser switches the calling thread to process.user. Group changes
// come first: once the uid is not 0 we may no longer change groups.
//
// These are the bare system calls, which change only this thread: the
// kernel keeps credentials per thread, and the program gets the ones of
// the thread that calls execve, this one (see Init). libc's wrappers
// would also signal every other thread to change, and musl finds them by
// a thread id it saved before nsexec cloned this process: after the
// clone it is stale, so musl signals a thread that is not ours and fails
// the call with EPERM, or a process that happens to have that id now.
func setUser(u specs.User) error {
	groups := make([]uint32, len(u.AdditionalGids))
	copy(groups, u.AdditionalGids)
	var list unsafe.Pointer
	if len(groups) > 0 {
		list = unsafe.Pointer(&groups[0])
	}
	// setgroups is refused in a user namespace whose setgroups file says
	// "deny"; then there is nothing to set anyway when no groups are asked.
	_, _, errno := unix.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(groups)), uintptr(list), 0)
	if errno != 0 && !(len(groups) == 0 && errno == unix.EPERM) {
		return fmt.Errorf("process.user.additionalGids %v: %w", u.AdditionalGids, errno)
	}
	gid, uid := uintptr(u.GID), uintptr(u.UID)
	if _, _, errno := unix.RawSyscall(unix.SYS_SETRESGID, gid, gid, gid); errno != 0 {
		return fmt.Errorf("process.user.gid %d: %w", u.GID, errno)
	}
	if _, _, errno := unix.RawSyscall(unix.SYS_SETRESUID, uid, uid, uid); errno != 0 {
		return fmt.Errorf("process.user.uid %d: %w", u.UID, errno)
	}
	if u.Umask != nil {
		unix.Umask(int(*u.Umask))
	}
	return nil
}

// lookPath finds the program to exec inside the container, the way a
// shell would, so a missing program fails "create" with its name.
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		if err := checkExecutable(name); err != nil {
			return "", fmt.Errorf("exec %q: %w", name, err)
		}
		return name, nil
	}
	path := spec.DefaultPath
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		candidate := filepath.Join(dir, name)
		if checkExecutable(candidate) == nil {
			return candidate, nil
		}
	}
	return "", fmt.Errorf("exec %q: executable file not found in $PATH", name)
}

func checkExecutable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return errors.New("no such file or directory")
		}
		return err
	}
	if fi.IsDir() {
		return errors.New("is a directory")
	}
	if fi.Mode()&0o111 == 0 {
		return errors.New("permission denied")
	}
	return nil
}

// SetProcessName sets the calling thread's name (comm, what ps and top
// show; 15 bytes at most), for the main thread the process's.
func SetProcessName(name string) {
	b, err := unix.BytePtrFromString(name)
	if err == nil {
		unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(b)), 0, 0, 0)
	}
}
