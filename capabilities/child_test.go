package capabilities

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"cm/tests/childproc"
)

// The real tests change the capabilities of a thread for good, so they
// run in a child (package childproc) holding a childConfig in childEnv.
// The child plays the container init and reports a childReport.
const childEnv = "CM_CAPABILITIES_TEST_CHILD"

type childConfig struct {
	Caps *specs.LinuxCapabilities
	UID  int // 0 stays root; anything else goes through keep-caps

	// Before doing what the init does: remove these capabilities from the
	// bounding, effective and permitted sets (a host that lacks them), and
	// set these securebits.
	RemoveFirst []string
	SecureBits  int

	SkipDropBounding bool // forget the DropBounding step, as a buggy init would
	Probe            bool // try mount(2) and a raw socket after applying
	Exec             []string
}

type childReport struct {
	Err          string
	Warnings     []string
	Status       map[string]uint64 // Cap* lines of /proc/thread-self/status
	MountErrno   int               // 0: mount succeeded
	RawSockErrno int               // 0: raw socket opened
}

func TestMain(m *testing.M) {
	childproc.Serve(childEnv, func(cfg *childConfig) (childReport, []string) {
		r := childSteps(cfg)
		if r.Err != "" {
			return r, nil
		}
		return r, cfg.Exec
	})
	os.Exit(m.Run())
}

func childSteps(cfg *childConfig) (r childReport) {
	fail := func(err error) childReport {
		r.Err = err.Error()
		return r
	}
	if cfg.Probe {
		// Probing mount(2) must not touch the host's mount table.
		if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
			return fail(err)
		}
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			return fail(err)
		}
	}
	if err := removeCaps(cfg.RemoveFirst); err != nil {
		return fail(err)
	}
	if cfg.SecureBits != 0 {
		if err := unix.Prctl(unix.PR_SET_SECUREBITS, uintptr(cfg.SecureBits), 0, 0, 0); err != nil {
			return fail(err)
		}
	}

	// What the container init does.
	set, err := Parse(cfg.Caps)
	if err != nil {
		return fail(err)
	}
	if !cfg.SkipDropBounding {
		w, err := set.DropBounding()
		if err != nil {
			return fail(err)
		}
		r.Warnings = append(r.Warnings, w...)
	}
	if cfg.UID != 0 {
		if err := SetKeepCaps(true); err != nil {
			return fail(err)
		}
		if err := unix.Setresgid(cfg.UID, cfg.UID, cfg.UID); err != nil {
			return fail(err)
		}
		if err := unix.Setresuid(cfg.UID, cfg.UID, cfg.UID); err != nil {
			return fail(err)
		}
	}
	w, err := set.ApplyAfterUserChange()
	if err != nil {
		return fail(err)
	}
	r.Warnings = append(r.Warnings, w...)

	status, err := os.ReadFile("/proc/thread-self/status")
	if err != nil {
		return fail(err)
	}
	if r.Status, err = parseCapStatus(status); err != nil {
		return fail(err)
	}
	if cfg.Probe {
		r.MountErrno = errnoOf(unix.Mount("cm-test", os.TempDir(), "tmpfs", 0, ""))
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
		if err == nil {
			unix.Close(fd)
		}
		r.RawSockErrno = errnoOf(err)
	}
	return r
}

// removeCaps takes names out of the thread's bounding, effective and
// permitted sets, to set up a host that does not have them.
func removeCaps(names []string) error {
	m, err := Mask(names)
	if err != nil || m == 0 {
		return err
	}
	for _, c := range capsOf(m) {
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil {
			return fmt.Errorf("drop bounding %s: %w", nameOf(c), err)
		}
	}
	now, err := readThread()
	if err != nil {
		return err
	}
	return capset(now.effective&^m, now.permitted&^m, now.inheritable&^m)
}

func errnoOf(err error) int {
	var errno unix.Errno
	if errors.As(err, &errno) {
		return int(errno)
	}
	if err != nil {
		return -1
	}
	return 0
}

// parseCapStatus picks the Cap* lines out of a /proc/PID/status file.
func parseCapStatus(status []byte) (map[string]uint64, error) {
	caps := map[string]uint64{}
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || !strings.HasPrefix(key, "Cap") {
			continue
		}
		v, err := strconv.ParseUint(strings.TrimSpace(value), 16, 64)
		if err != nil {
			return nil, fmt.Errorf("status line %q: %w", sc.Text(), err)
		}
		caps[key] = v
	}
	return caps, sc.Err()
}

// runChildTest runs the child with cfg and returns its report and the
// output of the program it exec'd, if any.
func runChildTest(t *testing.T, cfg childConfig) (childReport, string) {
	t.Helper()
	return childproc.Run[childReport](t, childEnv, cfg)
}
