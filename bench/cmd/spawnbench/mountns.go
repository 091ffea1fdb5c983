package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// unifiedControllers is where a hybrid cgroup host (v1 controllers plus a
// cgroup2 mount at /sys/fs/cgroup/unified) lists the controllers that
// cgroup2 owns. On this machine it says "hugetlb".
const unifiedControllers = "/sys/fs/cgroup/unified/cgroup.controllers"

// insideEnv marks the copy of spawnbench that already runs in the
// private mount namespace, so it does not re-execute itself again.
const insideEnv = "SPAWNBENCH_PRIVATE_MOUNTNS"

// inPrivateMountNamespace reports whether this process is the re-executed copy.
func inPrivateMountNamespace() bool { return os.Getenv(insideEnv) == "1" }

// reexecInPrivateMountNamespace runs this same program, with the same
// arguments, in a new mount namespace and returns its exit code.
//
// Why: crun 1.8 refuses to run on a hybrid host whose cgroup2 mount owns
// any controller ("cgroups in hybrid mode not supported, drop all
// controllers from cgroupv2"). The copy hides that list behind an empty
// file, which only a private mount namespace lets us do without changing
// the host for everyone else. Every contender runs in that same
// namespace, so they all see the same cgroup layout.
//
// Go's fork does unshare(CLONE_NEWNS) in the child and then makes "/"
// recursively private (like `unshare -m` + `mount --make-rprivate /`), so
// nothing mounted there propagates back to the host.
func reexecInPrivateMountNamespace() (int, error) {
	cmd := exec.Command("/proc/self/exe", os.Args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), insideEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), nil
	}
	if err != nil {
		return 1, fmt.Errorf("re-execute in a private mount namespace: %w", err)
	}
	return 0, nil
}

// hideHybridControllers bind-mounts an empty file over the cgroup2
// controller list, inside our private mount namespace only, and returns
// a sentence for the report saying what it did.
func hideHybridControllers(work string) (string, error) {
	// Already done by Go's fork; repeated so the code shows the whole recipe.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return "", fmt.Errorf("make / rprivate: %w", err)
	}
	list, err := os.ReadFile(unifiedControllers)
	if errors.Is(err, fs.ErrNotExist) {
		return "No hybrid cgroup2 mount at /sys/fs/cgroup/unified: nothing to hide.", nil
	}
	if err != nil {
		return "", fmt.Errorf("read %s: %w", unifiedControllers, err)
	}
	if len(bytes.TrimSpace(list)) == 0 {
		return unifiedControllers + " is already empty: nothing to hide.", nil
	}
	empty := filepath.Join(work, "empty-cgroup.controllers")
	if err := os.WriteFile(empty, nil, 0o444); err != nil {
		return "", fmt.Errorf("create %s: %w", empty, err)
	}
	if err := unix.Mount(empty, unifiedControllers, "", unix.MS_BIND, ""); err != nil {
		return "", fmt.Errorf("bind %s over %s: %w", empty, unifiedControllers, err)
	}
	return fmt.Sprintf("This host has hybrid cgroups and %s lists %q; crun 1.8 refuses to run then. "+
		"All contenders run in a private mount namespace (unshare CLONE_NEWNS, / made rprivate) "+
		"where an empty file is bind-mounted over that list; the host is untouched.",
		unifiedControllers, string(bytes.TrimSpace(list))), nil
}
