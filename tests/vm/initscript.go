package vm

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"text/template"
)

// The guest has two serial ports. ttyS0 is the kernel console, where
// boot messages, kernel warnings (an OOM kill, say) and this script's
// own messages go. ttyS1 carries only the program's output and, last,
// the exit marker, so kernel messages never interleave with it.
const (
	guestOutputTTY = "/dev/ttyS1"
	guestBinary    = "/test.bin"
)

// initTemplate is the guest's PID 1, run by busybox sh. It prepares a
// pure cgroup v2 system, runs the program once and powers off, which
// makes qemu exit. A setup failure powers off without an exit marker;
// the host then reports the console.
var initTemplate = template.Must(template.New("init").Parse(`#!/bin/sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root TMPDIR=/tmp
fail() { echo "cm-vm init: $*" | tee {{.TTY}}; poweroff -f; exit 1; }

mount -t proc proc /proc || fail "mount /proc"
mount -t sysfs sysfs /sys || fail "mount /sys"
mount -t devtmpfs devtmpfs /dev || fail "mount /dev"
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts || fail "mount /dev/pts"
mount -t tmpfs tmpfs /dev/shm || fail "mount /dev/shm"
mount -t cgroup2 cgroup2 /sys/fs/cgroup || fail "mount cgroup2"
# Hand every controller the kernel has to the children of the root, as
# systemd does on a v2 host: cpuset cpu io memory hugetlb pids rdma misc.
for c in $(cat /sys/fs/cgroup/cgroup.controllers); do
	echo "+$c" > /sys/fs/cgroup/cgroup.subtree_control || fail "enable controller $c"
done

echo "cm-vm: ready at uptime $(cut -d' ' -f1 /proc/uptime)"
cd /
{{range .Env}}export {{.}}
{{end}}{{.Command}} </dev/null >{{.TTY}} 2>&1
echo "{{.Marker}} $?" >{{.TTY}}
poweroff -f
`))

// initScript is what the template needs for one run.
type initScript struct {
	Args   []string
	Env    []string // NAME=value
	Marker string   // unique per run, so the program cannot fake it
}

// envName is what sh accepts as a variable name.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// render returns the text of /init.
func (s initScript) render() (string, error) {
	data := struct {
		TTY, Command, Marker string
		Env                  []string
	}{TTY: guestOutputTTY, Marker: s.Marker}

	data.Command = guestBinary
	for _, a := range s.Args {
		data.Command += " " + shellQuote(a)
	}
	for _, kv := range s.Env {
		name, _, ok := strings.Cut(kv, "=")
		if !ok || !envName.MatchString(name) {
			return "", fmt.Errorf("environment entry %q is not NAME=value", kv)
		}
		data.Env = append(data.Env, shellQuote(kv))
	}
	var b strings.Builder
	if err := initTemplate.Execute(&b, data); err != nil {
		return "", fmt.Errorf("render init script: %w", err)
	}
	return b.String(), nil
}

// shellQuote makes s one literal sh word: inside single quotes nothing
// is special, and a single quote itself is written by closing the
// quotes, adding an escaped quote and reopening them.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// ErrNoExitStatus means the guest stopped without reporting the
// program's exit status: init failed, the kernel panicked, or the run
// was killed. Run's Result then holds what was captured.
var ErrNoExitStatus = errors.New("guest reported no exit status")

// parseOutput splits what the guest wrote to ttyS1 into the program's
// output and its exit code, reported on the last line as "<marker> <code>".
// The tty turned each "\n" into "\r\n" on the way; that is undone.
func parseOutput(raw, marker string) (output string, exitCode int, err error) {
	text := strings.ReplaceAll(raw, "\r\n", "\n")
	i := strings.LastIndex(text, marker+" ")
	if i < 0 || (i > 0 && text[i-1] != '\n') {
		return text, -1, ErrNoExitStatus
	}
	field, _, _ := strings.Cut(text[i+len(marker)+1:], "\n")
	code, err := strconv.Atoi(strings.TrimSpace(field))
	if err != nil {
		return text, -1, fmt.Errorf("exit marker %q: %w", field, ErrNoExitStatus)
	}
	return text[:i], code, nil
}
