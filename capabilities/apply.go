package capabilities

import (
	"errors"
	"fmt"
	"strings"

	"github.com/moby/sys/capability"
	"golang.org/x/sys/unix"
)

// DropBounding removes from the calling thread's bounding set every
// capability that is not in the configured bounding set. The bounding set
// caps what any later execve can grant, and only shrinks.
//
// It must run before the user change, while the thread still has
// CAP_SETPCAP in its effective set: the kernel refuses PR_CAPBSET_DROP
// without it, and that is an error here, never skipped.
//
// Configured capabilities the thread's bounding set already lacks cannot
// be granted; they are not an error (like other OCI runtimes, the
// container still starts) but each is described in the returned warnings.
func (s *Set) DropBounding() (warnings []string, err error) {
	if s.keep {
		return nil, nil
	}
	now, err := readThread()
	if err != nil {
		return nil, err
	}
	// Capabilities already gone need no drop; skipping them also avoids
	// a needless EPERM when there is nothing to do.
	for _, c := range capsOf(now.bounding &^ s.bounding) {
		if err := capability.DropBound(c); err != nil {
			if errors.Is(err, unix.EPERM) {
				return nil, fmt.Errorf("drop %s from the bounding set: %w (needs CAP_SETPCAP in the effective set: drop before changing user)", nameOf(c), err)
			}
			return nil, fmt.Errorf("drop %s from the bounding set: %w", nameOf(c), err)
		}
	}
	var u ungranted
	u.add("bounding", s.bounding&^now.bounding)
	return u.warnings(), nil
}

// ApplyAfterUserChange sets the calling thread's effective, permitted and
// inheritable sets, then raises the ambient ones. The init calls it after
// setresuid (with SetKeepCaps(true) before it, so a non-root user still
// has a permitted set to take from) and after DropBounding.
//
// The kernel rules it works within (capabilities(7)):
//   - permitted can only shrink, and effective must stay within it;
//   - inheritable may only gain bits from the bounding set, and from
//     outside permitted only with CAP_SETPCAP effective;
//   - an ambient bit must be in both permitted and inheritable.
//
// Capabilities the thread cannot grant (not in its permitted or bounding
// set) are left out and described in the returned warnings. Every failing
// system call is an error, ambient ones included, and so is a final state
// that differs from the one computed: a container must never start with
// capabilities other than the ones reported.
func (s *Set) ApplyAfterUserChange() (warnings []string, err error) {
	if s.keep {
		return nil, nil
	}
	now, err := readThread()
	if err != nil {
		return nil, err
	}
	if extra := now.bounding &^ s.bounding; extra != 0 {
		return nil, fmt.Errorf("bounding set still holds %s: call DropBounding before the user change",
			strings.Join(namesOf(extra), ", "))
	}
	want, u := s.target(now)

	// First make every permitted capability effective (the user change
	// cleared effective), so CAP_SETPCAP, when permitted, is in force for
	// the second capset.
	if err := capset(now.permitted, now.permitted, now.inheritable); err != nil {
		return nil, fmt.Errorf("raise permitted capabilities: %w", err)
	}
	if err := capset(want.effective, want.permitted, want.inheritable); err != nil {
		return nil, fmt.Errorf("set capabilities: %w", err)
	}
	if err := capability.ResetAmbient(); err != nil {
		return nil, fmt.Errorf("clear the ambient set: %w", err)
	}
	for _, c := range capsOf(want.ambient) {
		if err := capability.SetAmbient(true, c); err != nil {
			return nil, fmt.Errorf("raise ambient %s: %w", nameOf(c), err)
		}
	}

	got, err := readThread()
	if err != nil {
		return nil, err
	}
	if got != want {
		return nil, fmt.Errorf("capabilities after applying differ from the ones computed: got %s, want %s", got, want)
	}
	return u.warnings(), nil
}

// target computes the sets the thread will end with, given what it holds
// now, and what was asked for but cannot be granted.
func (s *Set) target(now threadCaps) (threadCaps, ungranted) {
	want := threadCaps{bounding: now.bounding}
	want.permitted = s.permitted & now.permitted
	want.effective = s.effective & want.permitted
	inheritableFrom := now.bounding & now.permitted
	if now.permitted&bit(capability.CAP_SETPCAP) != 0 {
		inheritableFrom = now.bounding
	}
	want.inheritable = s.inheritable & (now.inheritable | inheritableFrom)
	want.ambient = s.ambient & want.permitted & want.inheritable

	var u ungranted
	u.add("effective", s.effective&^want.effective)
	u.add("permitted", s.permitted&^want.permitted)
	u.add("inheritable", s.inheritable&^want.inheritable)
	u.add("ambient", s.ambient&^want.ambient)
	return want, u
}

// ungranted collects, per capability, the sets it was asked for in but
// cannot be granted in, to report one warning line per capability.
type ungranted struct {
	sets [64][]string
}

func (u *ungranted) add(set string, m uint64) {
	for _, c := range capsOf(m) {
		u.sets[c] = append(u.sets[c], set)
	}
}

// warnings formats one line per capability, e.g. "CAP_SYS_RESOURCE
// (effective, permitted): the calling thread does not hold it, not granted".
func (u *ungranted) warnings() []string {
	var w []string
	for c, sets := range u.sets {
		if len(sets) > 0 {
			w = append(w, fmt.Sprintf("%s (%s): the calling thread does not hold it, not granted",
				nameOf(capability.Cap(c)), strings.Join(sets, ", ")))
		}
	}
	return w
}
