package runtime

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"cm/tests/childproc"
)

// A step that changes the test process's user runs in a child (package
// childproc) holding a userChildConfig in userChildEnv.
const userChildEnv = "CM_RUNTIME_TEST_USER_CHILD"

type userChildConfig struct {
	User specs.User
}

// userChildReport has the Uid, Gid and Groups lines of the calling
// thread's /proc status and of the other threads'.
type userChildReport struct {
	Err    string
	Self   []string
	Others [][]string
}

func TestMain(m *testing.M) {
	childproc.Serve(userChildEnv, func(cfg *userChildConfig) (userChildReport, []string) {
		var r userChildReport
		if err := setUser(cfg.User); err != nil {
			r.Err = err.Error()
			return r, nil
		}
		self := unix.Gettid()
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			r.Err = err.Error()
			return r, nil
		}
		for _, task := range tasks {
			ids, err := taskIDs(task.Name())
			if err != nil {
				r.Err = err.Error()
				return r, nil
			}
			if task.Name() == strconv.Itoa(self) {
				r.Self = ids
			} else {
				r.Others = append(r.Others, ids)
			}
		}
		return r, nil
	})
	childproc.Serve(replacedExeChildEnv, replacedExeChild)
	os.Exit(m.Run())
}

func taskIDs(tid string) ([]string, error) {
	data, err := os.ReadFile("/proc/self/task/" + tid + "/status")
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "Uid:") || strings.HasPrefix(line, "Gid:") || strings.HasPrefix(line, "Groups:") {
			ids = append(ids, strings.Join(strings.Fields(line), " "))
		}
	}
	return ids, nil
}

// TestSetUserChangesOnlyItsThread: the init's user is set by the bare
// system calls on the thread that will execve. Through libc's wrappers
// every thread would change, and a musl-linked init (whose libc has a
// stale idea of its main thread after nsexec's clone) failed them at
// random with EPERM.
func TestSetUserChangesOnlyItsThread(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to change users")
	}
	for _, tc := range []struct {
		user specs.User
		self []string
	}{
		{specs.User{UID: 1000, GID: 1001, AdditionalGids: []uint32{1002, 1003}},
			[]string{"Uid: 1000 1000 1000 1000", "Gid: 1001 1001 1001 1001", "Groups: 1002 1003"}},
		{specs.User{UID: 0, GID: 0},
			[]string{"Uid: 0 0 0 0", "Gid: 0 0 0 0", "Groups:"}},
	} {
		t.Run(fmt.Sprintf("%d:%d", tc.user.UID, tc.user.GID), func(t *testing.T) {
			r, _ := childproc.Run[userChildReport](t, userChildEnv, userChildConfig{User: tc.user})
			require.Empty(t, r.Err)
			require.Equal(t, tc.self, r.Self)
			require.NotEmpty(t, r.Others, "a Go program has more than one thread")
			for _, other := range r.Others {
				require.Equal(t, "Uid: 0 0 0 0", other[0], "another thread changed user")
			}
		})
	}
}
