package spec

import (
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// What execve(2) can carry (fs/exec.c, "Limits on size of arguments and
// environment" in execve(2)): each argument or environment string, with
// its NUL, at most MAX_ARG_STRLEN (32 pages); all of them, with their
// NULs and a pointer each, at most a quarter of the stack rlimit, never
// more than 3/4 of 8 MiB and never less than 32 pages (ARG_MAX). A
// process that asks for more fails with E2BIG at its execve, after the
// container was made; checking before, the error names the field.

// maxArgStrlen is MAX_ARG_STRLEN: one string, NUL included.
func maxArgStrlen() int { return 32 * os.Getpagesize() }

// execveLimit is the byte budget of argv and envp under a stack rlimit.
func execveLimit(stack uint64) uint64 {
	limit := uint64(8<<20) / 4 * 3
	if stack/4 < limit {
		limit = stack / 4
	}
	return max(limit, uint64(maxArgStrlen()))
}

// pathReserve is kept free for the program's path, which execve copies
// into the same space and which is only found inside the container.
const pathReserve = unix.PathMax

// StackRlimit is the soft RLIMIT_STACK a process execs with: its own
// process.rlimits entry, else cmrun's, which the init inherits.
func StackRlimit(rlimits []specs.POSIXRlimit) uint64 {
	for _, r := range rlimits {
		if r.Type == "RLIMIT_STACK" {
			return r.Soft
		}
	}
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_STACK, &rl); err != nil {
		return 8 << 20 // the usual default
	}
	return rl.Cur
}

// CheckExecveSize checks that args and env of field (process, or a hook)
// fit through execve under a stack rlimit. It returns the field at fault
// and the problem, for the caller to word as a config or an exec error.
func CheckExecveSize(field string, args, env []string, stack uint64) (string, string, bool) {
	maxStr := maxArgStrlen()
	var sizes [2]uint64
	names := [2]string{"args", "env"}
	for j, list := range [2][]string{args, env} {
		for i, s := range list {
			if len(s)+1 > maxStr {
				return fmt.Sprintf("%s.%s[%d]", field, names[j], i),
					fmt.Sprintf("%d bytes is more than the %s execve(2) takes for one string (MAX_ARG_STRLEN)", len(s), sizeText(uint64(maxStr))), false
			}
			sizes[j] += uint64(len(s)) + 1 + 8 // the string, its NUL, its pointer
		}
	}
	limit := execveLimit(stack)
	if sizes[0]+sizes[1]+pathReserve <= limit {
		return "", "", true
	}
	big, other := 1, 0
	if sizes[0] > sizes[1] {
		big, other = 0, 1
	}
	return field + "." + names[big], fmt.Sprintf("%d bytes (strings, NULs and pointers) with %s.%s is more than the %s execve(2) takes for both: a quarter of the %s stack rlimit, at most 6 MiB, %s of it kept for the program's path",
		sizes[0]+sizes[1], field, names[other], sizeText(limit), sizeText(stack), sizeText(pathReserve)), false
}

// sizeText writes a byte count as MiB or KiB when it is a whole number of them.
func sizeText(n uint64) string {
	switch {
	case n == unix.RLIM_INFINITY:
		return "unlimited"
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
