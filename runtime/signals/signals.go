// Package signals parses the signal names users give cmrun kill and the
// manager's kill call ("9", "KILL", "SIGKILL", "RTMIN+3").
//
// It owns only the names; it never sends a signal.
package signals

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Parse accepts "9", "KILL", "SIGKILL" and real-time forms like "RTMIN+3".
func Parse(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > sigRTMax {
			return 0, fmt.Errorf("signal %d: out of range 1..%d", n, sigRTMax)
		}
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	if rest, ok := strings.CutPrefix(name, "SIGRTMIN"); ok {
		return rtSignal(sigRTMin, rest, s)
	}
	if rest, ok := strings.CutPrefix(name, "SIGRTMAX"); ok {
		return rtSignal(sigRTMax, rest, s)
	}
	return 0, fmt.Errorf("unknown signal %q", s)
}

// The real-time signal range as glibc exposes it (it keeps 32 and 33 for itself).
const (
	sigRTMin = 34
	sigRTMax = 64
)

func rtSignal(base int, offset, orig string) (unix.Signal, error) {
	n := 0
	if offset != "" {
		var err error
		if n, err = strconv.Atoi(offset); err != nil {
			return 0, fmt.Errorf("unknown signal %q", orig)
		}
	}
	sig := base + n
	if sig < sigRTMin || sig > sigRTMax {
		return 0, fmt.Errorf("signal %q: out of range", orig)
	}
	return unix.Signal(sig), nil
}
