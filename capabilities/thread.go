package capabilities

import (
	"fmt"

	"github.com/moby/sys/capability"
	"golang.org/x/sys/unix"
)

// threadCaps is the capability state of one thread, one mask per set.
type threadCaps struct {
	bounding, effective, permitted, inheritable, ambient uint64
}

// String prints the masks the way /proc/PID/status names them.
func (t threadCaps) String() string {
	return fmt.Sprintf("CapBnd=%016x CapEff=%016x CapPrm=%016x CapInh=%016x CapAmb=%016x",
		t.bounding, t.effective, t.permitted, t.inheritable, t.ambient)
}

// readThread reads the calling thread's five sets.
//
// It asks the kernel with capget and prctl rather than reading
// /proc/self/status (as the library's Load does): that file describes the
// process's main thread, which is not the thread the init runs on.
func readThread() (threadCaps, error) {
	var t threadCaps
	// Pid 0 names the calling thread; version 3 splits each set into two
	// 32-bit words.
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return t, fmt.Errorf("capget: %w", err)
	}
	t.effective = uint64(data[1].Effective)<<32 | uint64(data[0].Effective)
	t.permitted = uint64(data[1].Permitted)<<32 | uint64(data[0].Permitted)
	t.inheritable = uint64(data[1].Inheritable)<<32 | uint64(data[0].Inheritable)

	last, err := lastCap()
	if err != nil {
		return t, fmt.Errorf("read the last capability of this kernel: %w", err)
	}
	for c := capability.Cap(0); c <= last; c++ {
		inBounding, err := capability.GetBound(c)
		if err != nil {
			return t, fmt.Errorf("read bounding %s: %w", nameOf(c), err)
		}
		if inBounding {
			t.bounding |= bit(c)
		}
		// The kernel keeps the ambient set within permitted and
		// inheritable (capabilities(7)): only those can be in it.
		if (t.permitted&t.inheritable)&bit(c) == 0 {
			continue
		}
		inAmbient, err := capability.GetAmbient(c)
		if err != nil {
			return t, fmt.Errorf("read ambient %s: %w", nameOf(c), err)
		}
		if inAmbient {
			t.ambient |= bit(c)
		}
	}
	return t, nil
}

// capset sets the calling thread's effective, permitted and inheritable
// sets in one system call.
func capset(effective, permitted, inheritable uint64) error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	data := [2]unix.CapUserData{
		{Effective: uint32(effective), Permitted: uint32(permitted), Inheritable: uint32(inheritable)},
		{Effective: uint32(effective >> 32), Permitted: uint32(permitted >> 32), Inheritable: uint32(inheritable >> 32)},
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset effective=%#x permitted=%#x inheritable=%#x: %w", effective, permitted, inheritable, err)
	}
	return nil
}

// capsOf lists the capabilities whose bits are set in m, lowest first.
func capsOf(m uint64) []capability.Cap {
	var caps []capability.Cap
	for c := capability.Cap(0); c < 64; c++ {
		if m&bit(c) != 0 {
			caps = append(caps, c)
		}
	}
	return caps
}

// SetKeepCaps sets or clears the calling thread's keep-caps flag
// (prctl PR_SET_KEEPCAPS). With it set, a change of every user ID from 0
// to non-zero keeps the permitted set instead of clearing it, so the
// init can still grant capabilities to a non-root user afterwards. The
// effective set is cleared by that change either way, and execve resets
// the flag.
func SetKeepCaps(on bool) error {
	var v uintptr
	if on {
		v = 1
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, v, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_KEEPCAPS, %d): %w", v, err)
	}
	return nil
}
