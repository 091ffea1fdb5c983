package vm

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Options describe one run of a program in a fresh VM.
type Options struct {
	// Binary is the host path of the program, typically a `go test -c`
	// binary; any ELF program works, and so does a script for the
	// guest's busybox sh. It runs as root, as /test.bin, in /, with
	// stdin /dev/null.
	Binary string
	// Args are its arguments, e.g. "-test.v", "-test.run", "^TestX$".
	Args []string
	// Env adds NAME=value entries to its environment.
	Env []string
	// Files copies extra host files (keys) to guest paths (values).
	Files map[string]string

	// Kernel is the vmlinux to boot; empty means
	// EnsureKernel(DefaultCacheDir()).
	Kernel string
	// Memory is qemu's -m; empty means 1G.
	Memory string
	// CPUs is the number of virtual CPUs; 0 means 2, so that CPU
	// limits have something to limit.
	CPUs int
	// Timeout bounds the whole run, boot included; 0 means 10 minutes.
	// The context can end it sooner.
	Timeout time.Duration
}

// Result is what came back from the guest.
type Result struct {
	// Output is everything the program wrote to stdout and stderr.
	Output string
	// ExitCode is the program's exit status; -1 if none was reported.
	ExitCode int
	// Console is the kernel console: boot messages, kernel warnings
	// and the init script's own messages. Look here when a run fails.
	Console string
	// BootTime is the guest's uptime when the program started.
	BootTime time.Duration
	// Elapsed is the host's wall-clock time from starting qemu to its exit.
	Elapsed time.Duration
	// InitramfsSize is the size of the guest's root filesystem in bytes.
	InitramfsSize int64
}

// kernelCmdline: quiet keeps the console short; panic=-1 reboots at
// once on a panic, and -no-reboot turns that reboot into qemu's exit;
// cgroup_no_v1=all guarantees no controller can end up on a v1
// hierarchy.
const kernelCmdline = "console=ttyS0 quiet panic=-1 cgroup_no_v1=all"

// Run boots a VM, runs opts.Binary in it once and returns its output
// and exit code. A program that fails is not an error: see ExitCode.
// Errors are about the harness or the guest; when the guest ran but
// reported no exit status (ErrNoExitStatus, or a timeout), the Result
// is returned too, with what was captured.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if opts.Binary == "" {
		return nil, errors.New("run in VM: Options.Binary is empty")
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("run %s in VM: %w", opts.Binary, err)
	}
	qemu, err := lookTool("qemu-system-x86_64")
	if err != nil {
		return nil, err
	}
	kernel := opts.Kernel
	if kernel == "" {
		cache, err := DefaultCacheDir()
		if err != nil {
			return nil, err
		}
		if kernel, err = EnsureKernel(cache); err != nil {
			return nil, err
		}
	}

	work, err := os.MkdirTemp("", "cm-vm-")
	if err != nil {
		return nil, fmt.Errorf("create work directory: %w", err)
	}
	defer os.RemoveAll(work)

	marker, err := newMarker()
	if err != nil {
		return nil, err
	}
	initText, err := initScript{Args: opts.Args, Env: opts.Env, Marker: marker}.render()
	if err != nil {
		return nil, err
	}
	initramfs := filepath.Join(work, "initramfs.cpio")
	if err := writeInitramfs(initramfs, initramfsContents{Init: initText, Binary: opts.Binary, Files: opts.Files}); err != nil {
		return nil, err
	}
	st, err := os.Stat(initramfs)
	if err != nil {
		return nil, fmt.Errorf("size of initramfs: %w", err)
	}

	timeout := opts.Timeout
	if timeout == 0 {
		timeout = 10 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	consoleFile := filepath.Join(work, "console.log")
	outputFile := filepath.Join(work, "output.log")
	cmd := exec.CommandContext(ctx, qemu, qemuArgs(opts, kernel, initramfs, consoleFile, outputFile)...)
	var qemuErr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &qemuErr, &qemuErr // qemu's own complaints; the guest writes to the files

	start := time.Now()
	runErr := cmd.Run()
	res := &Result{ExitCode: -1, Elapsed: time.Since(start), InitramfsSize: st.Size()}

	// Read what the guest wrote even after a failure: it is the best
	// clue to what went wrong.
	console, _ := os.ReadFile(consoleFile)
	res.Console = strings.ReplaceAll(string(console), "\r\n", "\n")
	res.BootTime = parseBootTime(res.Console)
	rawOutput, _ := os.ReadFile(outputFile)
	output, code, parseErr := parseOutput(string(rawOutput), marker)
	res.Output, res.ExitCode = output, code

	switch {
	case ctx.Err() != nil:
		return res, fmt.Errorf("run %s in VM: stopped after %s: %w", opts.Binary, res.Elapsed.Round(time.Millisecond), ctx.Err())
	case runErr != nil:
		return res, fmt.Errorf("qemu: %w: %s", runErr, bytes.TrimSpace(qemuErr.Bytes()))
	case parseErr != nil:
		return res, fmt.Errorf("run %s in VM: %w; console ends with:\n%s", opts.Binary, parseErr, tail(res.Console, 20))
	}
	return res, nil
}

// qemuArgs builds qemu's command line. Always TCG: this host's /dev/kvm
// hangs real kernels. -nodefaults drops the default VGA card, network
// card and drives, which the guest would otherwise spend time probing.
func qemuArgs(opts Options, kernel, initramfs, consoleFile, outputFile string) []string {
	memory := opts.Memory
	if memory == "" {
		memory = "1G"
	}
	cpus := opts.CPUs
	if cpus == 0 {
		cpus = 2
	}
	return []string{
		"-accel", "tcg",
		"-m", memory,
		"-smp", strconv.Itoa(cpus),
		"-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
		"-kernel", kernel,
		"-initrd", initramfs,
		"-append", kernelCmdline,
		"-serial", "file:" + consoleFile, // ttyS0
		"-serial", "file:" + outputFile, // ttyS1
	}
}

// newMarker returns a fresh end-of-output marker.
func newMarker() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make exit marker: %w", err)
	}
	return "cm-vm-exit-" + hex.EncodeToString(b), nil
}

var readyLine = regexp.MustCompile(`cm-vm: ready at uptime ([0-9.]+)`)

// parseBootTime finds the init script's "ready" line on the console.
func parseBootTime(console string) time.Duration {
	m := readyLine.FindStringSubmatch(console)
	if m == nil {
		return 0
	}
	secs, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0
	}
	return time.Duration(secs * float64(time.Second))
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
