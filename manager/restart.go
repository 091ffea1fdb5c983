package manager

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrBadRestartPolicy is returned (wrapped) for a restart policy that does
// not parse.
var ErrBadRestartPolicy = errors.New("bad restart policy")

// Restart policies, as docker and podman name them.
const (
	RestartNo        = "no"
	RestartOnFailure = "on-failure"
	RestartAlways    = "always"
)

// RestartPolicy says whether a container that died is started again.
// Max bounds the restarts of on-failure (0: no bound).
type RestartPolicy struct {
	Name string
	Max  int
}

// ParseRestartPolicy reads "no", "always", "on-failure" or "on-failure:N"
// (N ≥ 0); "" is "no".
func ParseRestartPolicy(s string) (RestartPolicy, error) {
	name, count, hasCount := strings.Cut(s, ":")
	switch name {
	case "", RestartNo, RestartAlways:
		if hasCount {
			return RestartPolicy{}, fmt.Errorf("%w %q: only on-failure takes a maximum (on-failure:N)", ErrBadRestartPolicy, s)
		}
		if name == "" {
			name = RestartNo
		}
		return RestartPolicy{Name: name}, nil
	case RestartOnFailure:
		p := RestartPolicy{Name: name}
		if hasCount {
			n, err := strconv.Atoi(count)
			if err != nil || n < 0 {
				return RestartPolicy{}, fmt.Errorf("%w %q: the maximum after on-failure: must be a whole number ≥ 0", ErrBadRestartPolicy, s)
			}
			p.Max = n
		}
		return p, nil
	}
	return RestartPolicy{}, fmt.Errorf("%w %q: want no, on-failure[:N] or always", ErrBadRestartPolicy, s)
}

func (p RestartPolicy) String() string {
	if p.Name == RestartOnFailure && p.Max > 0 {
		return fmt.Sprintf("%s:%d", p.Name, p.Max)
	}
	if p.Name == "" {
		return RestartNo
	}
	return p.Name
}

// Restarts reports whether a container that exited with exitCode, and was
// restarted `restarts` times already, is to be restarted. A user's stop or
// kill is never undone (userStopped), as docker does.
func (p RestartPolicy) Restarts(exitCode, restarts int, userStopped bool) bool {
	if userStopped {
		return false
	}
	switch p.Name {
	case RestartAlways:
		return true
	case RestartOnFailure:
		return exitCode != 0 && (p.Max == 0 || restarts < p.Max)
	}
	return false
}

// The back-off between restarts: it starts small, doubles with every
// restart of a container that did not stay up, and is capped so a
// flapping container is still retried now and then.
const (
	BackoffFirst = 100 * time.Millisecond
	BackoffMax   = time.Minute
	// BackoffReset is how long a container must have run for its next
	// restart to start the back-off over.
	BackoffReset = 10 * time.Second
)

// Backoff is the wait before restart number n+1 of a container restarted
// n times in a row without staying up for BackoffReset.
func Backoff(n int) time.Duration {
	d := BackoffFirst
	for range n {
		d *= 2
		if d >= BackoffMax {
			return BackoffMax
		}
	}
	return d
}
