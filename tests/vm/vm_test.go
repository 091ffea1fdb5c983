package vm

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRunSelftest boots the VM with a small cgo test binary and checks
// that arguments, environment and files go in, and that output and the
// exit code, success or failure, come back out.
func TestRunSelftest(t *testing.T) {
	kernel := testKernel(t)
	bin := buildTestBinary(t, "./tests/vm/testdata/selftest")
	greeting := filepath.Join(t.TempDir(), "greeting.txt")
	require.NoError(t, os.WriteFile(greeting, []byte("a file from the host"), 0o644))

	tests := []struct {
		name     string
		args     []string
		wantExit int
		want     []string // substrings of the output
		notWant  []string
	}{
		{
			name: "passing tests",
			// Quotes, spaces and $ must reach the program untouched.
			args:     []string{"-test.v", "-test.run", "^(TestArgs|TestEnvAndFile|TestGuest)$", "it's one arg", "$HOME; two"},
			wantExit: 0,
			want: []string{
				`args: ["it's one arg" "$HOME; two"]`,
				"env: hello from the host",
				"file: a file from the host",
				"--- PASS: TestArgs", "--- PASS: TestEnvAndFile", "--- PASS: TestGuest",
				"\nPASS\n",
			},
			notWant: []string{"--- FAIL", "cm-vm-exit-"},
		},
		{
			name:     "failing test",
			args:     []string{"-test.v", "-test.run", "^TestFail$"},
			wantExit: 1,
			want:     []string{"--- FAIL: TestFail", "this failure is on purpose", "\nFAIL\n"},
			notWant:  []string{"--- PASS", "cm-vm-exit-"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Run(context.Background(), Options{
				Kernel:  kernel,
				Binary:  bin,
				Args:    tt.args,
				Env:     []string{"CM_VM_GREETING=hello from the host"},
				Files:   map[string]string{greeting: "/etc/cm-vm/greeting.txt"},
				Timeout: 5 * time.Minute,
			})
			if res != nil {
				t.Logf("boot %s, run %s, initramfs %d bytes; output:\n%s", res.BootTime, res.Elapsed, res.InitramfsSize, res.Output)
			}
			require.NoError(t, err)
			require.Equal(t, tt.wantExit, res.ExitCode, "console:\n%s", res.Console)
			for _, w := range tt.want {
				require.Contains(t, res.Output, w)
			}
			for _, w := range tt.notWant {
				require.NotContains(t, res.Output, w)
			}
			require.Contains(t, res.Console, "cm-vm: ready at uptime", "the init script reports on the console")
			require.Positive(t, res.BootTime)
		})
	}
}

// TestRunRefusesEndedContext: a cancelled caller gets its error back
// without a VM being started.
func TestRunRefusesEndedContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := Run(ctx, Options{Binary: "/bin/true"})
	require.ErrorIs(t, err, context.Canceled)
	require.Nil(t, res)
}

// TestRunTimeout: a program that never ends is stopped by the timeout,
// and the caller learns that no exit status came back. Nothing here
// depends on how far the guest got before the timeout.
func TestRunTimeout(t *testing.T) {
	script := filepath.Join(t.TempDir(), "hang.sh")
	require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\necho started\nexec sleep 1000\n"), 0o755))

	res, err := Run(context.Background(), Options{Kernel: testKernel(t), Binary: script, Timeout: 10 * time.Second})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NotNil(t, res, "what the guest wrote before the timeout comes back")
	require.Equal(t, -1, res.ExitCode)
	t.Logf("after %s: output %q", res.Elapsed, res.Output)
}
