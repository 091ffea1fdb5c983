package main

import (
	"cm/runtime/term"

	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"

	"golang.org/x/sys/unix"

	"cm/manager/api"
	"cm/manager/execstream"
)

func cmdExec(c *cli, args []string) error {
	var req api.ExecRequest
	fs := c.flags("exec")
	fs.BoolVarP(&req.Stdin, "interactive", "i", false, "keep STDIN open and pass it to the process")
	fs.BoolVarP(&req.Tty, "tty", "t", false, "allocate a pseudo-TTY; cmctl's terminal size follows it")
	fs.StringArrayVarP(&req.Env, "env", "e", nil, "set an environment variable KEY=VALUE (repeatable)")
	fs.StringVarP(&req.User, "user", "u", "", "run as UID[:GID] (numbers; default: the container's user)")
	fs.StringVarP(&req.Cwd, "cwd", "w", "", "working directory inside the container (default: the container's)")
	fs.StringVar(&req.Cwd, "workdir", "", "the same as --cwd (podman's name)")
	fs.MarkHidden("workdir")
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, `Run a process in a running container

usage: cmctl exec %s

The process joins the container's namespaces and cgroup and gets the
container's environment, user and working directory unless the options
say otherwise. Its stdout and stderr come back separately (with -t both
come from the terminal), and cmctl exits with its exit code: 127 when
the command does not exist, 126 when it cannot be run.

examples:
  cmctl exec web -- ls /
  cmctl exec -it web -- sh
  echo hi | cmctl exec -i -e GREETING=hello -u 1000:1000 -w /tmp web -- cat

options:
%s`, commands["exec"].usage, fs.FlagUsages())
	}
	// Flags end at the container, as in podman: "exec ID ls -l" runs ls -l.
	fs.SetInterspersed(false)
	got, err := c.parse(fs, "exec", args, 2, -1)
	if err != nil {
		return err
	}
	req.Args = got[1:]
	if req.Args[0] == "--" {
		req.Args = req.Args[1:]
	}
	if err := req.Check(); err != nil {
		return fmt.Errorf("exec: %w", err)
	}
	ttyFd := -1 // the fd of our terminal, if -t and we have one
	if req.Tty {
		for _, fd := range []int{0, 1} {
			if ws, err := unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ); err == nil {
				ttyFd, req.Rows, req.Cols = fd, ws.Row, ws.Col
				break
			}
		}
	}
	sess, err := c.client.Exec(c.ctx, got[0], req)
	if err != nil {
		return err
	}
	defer sess.Close()
	if req.Tty && ttyFd == 0 {
		if restore, err := term.MakeRaw(0); err == nil {
			defer restore()
		}
	}
	if req.Tty && ttyFd >= 0 {
		winch := make(chan os.Signal, 1)
		signal.Notify(winch, unix.SIGWINCH)
		defer signal.Stop(winch)
		go func() {
			for range winch {
				if ws, err := unix.IoctlGetWinsize(ttyFd, unix.TIOCGWINSZ); err == nil {
					sess.Out.WriteResize(ws.Row, ws.Col)
				}
			}
		}()
	}
	if req.Stdin {
		go func() {
			io.Copy(sess.Out.Stream(execstream.Stdin), os.Stdin)
			sess.Out.Write(execstream.CloseStdin, nil)
		}()
	}
	return c.execOutput(sess)
}

// execOutput copies the process's output until its exit code arrives.
func (c *cli) execOutput(sess *api.ExecSession) error {
	for {
		k, p, err := execstream.Read(sess.In)
		if err != nil {
			if c.ctx.Err() != nil {
				return errors.New("exec: interrupted: the process was killed")
			}
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("exec: the connection ended before the exit code: %w", err)
		}
		switch k {
		case execstream.Stdout:
			c.stdout.Write(p)
		case execstream.Stderr:
			c.stderr.Write(p)
		case execstream.Error:
			fmt.Fprintf(c.stderr, "cmctl: exec: %s\n", p)
		case execstream.Exit:
			code, err := execstream.ExitCode(p)
			if err != nil {
				return err
			}
			return exitCode(code)
		}
	}
}
