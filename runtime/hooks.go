package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"cm/nsexec"
)

// hasCreateHooks reports whether the init must pause so the parent can run
// prestart and createRuntime hooks (after the namespaces exist, before
// pivot_root).
func hasCreateHooks(s *specs.Spec) bool {
	return s.Hooks != nil && (len(s.Hooks.Prestart) > 0 || len(s.Hooks.CreateRuntime) > 0)
}

// runCreateHooks runs the hooks the runtime-spec calls in the runtime
// namespace during create: prestart (deprecated, still used by some
// tools) and createRuntime.
func runCreateHooks(c *Container, s *specs.Spec, pid int, t *Trace) error {
	st := specs.State{Version: specs.Version, ID: c.ID, Status: specs.StateCreating, Pid: pid, Bundle: c.Bundle, Annotations: s.Annotations}
	// Prestart hooks were written against runc, whose exec fifo already
	// exists when they run, so they see "created"; the OCI validation
	// suite (runtime-tools hooks_stdin) checks for exactly that.
	prestart := st
	prestart.Status = specs.StateCreated
	if err := runHooks("prestart", s.Hooks.Prestart, prestart, t); err != nil {
		return err
	}
	return runHooks("createRuntime", s.Hooks.CreateRuntime, st, t)
}

// runHooks runs hooks in order with the state on stdin. The first failure
// stops the list and is returned: for the hooks of create and start a
// failure is fatal.
func runHooks(kind string, hooks []specs.Hook, st specs.State, t *Trace) error {
	var first error
	eachHook(kind, hooks, st, t, func(err error) bool {
		first = err
		return false
	})
	return first
}

// runHooksWarning runs every hook of a kind whose failure the spec makes
// a warning (poststart, poststop): each failure is printed and the
// remaining hooks still run.
func runHooksWarning(kind string, hooks []specs.Hook, st specs.State) {
	eachHook(kind, hooks, st, nil, func(err error) bool {
		fmt.Fprintf(os.Stderr, "cmrun: warning: %v\n", err)
		return true
	})
}

// eachHook runs hooks in order and hands each failure to failed, which
// says whether to go on.
func eachHook(kind string, hooks []specs.Hook, st specs.State, t *Trace, failed func(error) bool) {
	if len(hooks) == 0 {
		return
	}
	state, err := json.Marshal(st)
	if err != nil {
		failed(fmt.Errorf("encode state for %s hooks: %w", kind, err))
		return
	}
	for i, h := range hooks {
		done := t.Step("cmrun", "hook %s[%d] %s", kind, i, h.Path)
		err := runHook(h, state)
		done()
		if err != nil && !failed(fmt.Errorf("%s hook %d (%s): %w", kind, i, h.Path, err)) {
			return
		}
	}
}

func runHook(h specs.Hook, state []byte) error {
	ctx := context.Background()
	if h.Timeout != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(*h.Timeout)*time.Second)
		defer cancel()
	}
	// args[0] is argv[0] as the spec says; the path is what runs.
	cmd := exec.CommandContext(ctx, h.Path)
	if len(h.Args) > 0 {
		cmd.Args = h.Args
	} else {
		cmd.Args = []string{h.Path}
	}
	cmd.Env = h.Env
	cmd.Stdin = bytes.NewReader(state)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := nsexec.ForkWithHostScheduling(cmd.Start)
	if err == nil {
		err = cmd.Wait()
	}
	if ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("timed out after %ds", *h.Timeout)
	}
	if err != nil {
		if msg := strings.TrimSpace(out.String()); msg != "" {
			return fmt.Errorf("%w: %s", err, firstLine(msg))
		}
		return err
	}
	return nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
