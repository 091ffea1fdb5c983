package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"cm/manager"
	"cm/manager/api"
)

// cmdRun is create, start, logs --follow and wait in one, like podman
// run. Its own flags (--rm, -d) are taken out; every other argument goes
// to create as it is, so run always takes exactly create's flags.
func cmdRun(c *cli, args []string) error {
	var rm, detach bool
	var createArgs []string
	for i, a := range args {
		if a == "--" {
			createArgs = append(createArgs, args[i:]...)
			break
		}
		name, value, hasValue := strings.Cut(a, "=")
		on := true
		if hasValue {
			v, err := strconv.ParseBool(value)
			if err != nil && (name == "--rm" || name == "--detach") {
				return fmt.Errorf("%s: %q: want true or false", name, value)
			}
			on = v
		}
		switch name {
		case "--rm":
			rm = on
		case "-d", "--detach":
			detach = on
		case "-h", "--help":
			return c.runHelp()
		default:
			createArgs = append(createArgs, a)
		}
	}
	// create prints the id once the container is READY; run prints it
	// only with -d, like podman.
	var created bytes.Buffer
	cc := *c
	cc.stdout = &created
	cc.json = false
	if err := cmdCreate(&cc, createArgs); err != nil {
		if id := strings.TrimSpace(created.String()); id != "" && rm {
			c.client.Delete(context.WithoutCancel(c.ctx), id, true)
		}
		return err
	}
	c.client = cc.client // create may have switched sockets (--socket after run)
	id := strings.TrimSpace(created.String())
	if _, err := c.client.Start(c.ctx, id); err != nil {
		if rm {
			c.client.Delete(context.WithoutCancel(c.ctx), id, true)
		}
		return err
	}
	if detach {
		fmt.Fprintln(c.stdout, id)
		return nil
	}
	// From here an interrupt (SIGINT, SIGTERM) stops the container, with
	// the usual grace period, and run goes on to its end: the exit code,
	// and with --rm the removal.
	ctx := context.WithoutCancel(c.ctx)
	stopOnInterrupt := context.AfterFunc(c.ctx, func() {
		grace := 10.0
		if _, err := c.client.Stop(ctx, id, api.StopRequest{Timeout: &grace}); err != nil {
			fmt.Fprintf(c.stderr, "cmctl: stop %s: %v\n", id, err)
		}
	})
	defer stopOnInterrupt()
	logs, err := c.client.Logs(ctx, id, true)
	if err != nil {
		return err
	}
	_, err = io.Copy(c.stdout, logs)
	logs.Close()
	if err != nil {
		return fmt.Errorf("read logs of %s: %w", id, err)
	}
	ct, err := c.client.Wait(ctx, id)
	if err != nil {
		return err
	}
	if rm {
		if _, err := c.client.Delete(ctx, id, false); err != nil {
			return fmt.Errorf("remove %s: %w", id, err)
		}
	}
	if ct.State != manager.Dead {
		return fmt.Errorf("container %s is %s: its exit status is unknown", ct.ID, ct.State)
	}
	if ct.Error != "" {
		return fmt.Errorf("container %s never ran: %s", ct.ID, ct.Error)
	}
	return exitCode(ct.ExitCode)
}

// runHelp prints run's usage followed by the create flags it takes.
func (c *cli) runHelp() error {
	var help bytes.Buffer
	cc := *c
	cc.stderr = &help
	cmdCreate(&cc, []string{"--help"})
	_, flags, _ := strings.Cut(help.String(), "\n")
	var keep []string
	for _, line := range strings.SplitAfter(flags, "\n") {
		if !strings.Contains(line, "--detach") { // run's own -d replaces create's
			keep = append(keep, line)
		}
	}
	flags = strings.Join(keep, "")
	fmt.Fprintf(c.stderr, `Run a command in a new container

usage: cmctl run [--rm] [-d] [CREATE FLAGS] -- CMD [ARG...]

Creates the container, starts it, prints its output (stdout and stderr,
from its log) until it exits, and exits with its exit code.

examples:
  cmctl run --rootfs /srv/busybox -- echo hello
  cmctl run --rm --rootfs /srv/busybox -- sh -c 'exit 3'; echo $?
  cmctl run -d --name web --rootfs /srv/busybox -- httpd -f

options:
      --rm                    remove the container once it has exited
  -d, --detach                print the container's id once it runs and return
%s`, flags)
	return nil
}
