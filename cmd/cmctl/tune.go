package main

import (
	"fmt"
	"strconv"
	"strings"

	"cm/manager/api"
)

// This file is pause, resume and update, and the create flags for
// restart policies and labels.

// descriptions are the longer help of some commands, printed by --help
// between the usage line and the flags, as podman's help reads.
var descriptions = map[string]string{
	"pause": "Pauses all the processes of a RUNNING container with the cgroup freezer. The\n" +
		"container is PAUSED until resume; stop, kill and rm --force still work (the\n" +
		"signal is delivered when the shim thaws it).\n",
	"resume": "Thaws all the processes of a PAUSED container; it is RUNNING again.\n",
	"update": "Changes the cgroup limits of a READY, RUNNING or PAUSED container, through its\n" +
		"shim and the runtime's update, or its restart policy. Only what is given\n" +
		"changes. inspect shows the new values, and a restart by the policy keeps them.\n",
}

func init() {
	commands["pause"] = command{"ID", "pause all the processes of a container", cmdPause}
	commands["resume"] = command{"ID", "resume all the processes of a paused container", cmdResume}
	commands["update"] = command{"[--memory SIZE] [--pids N] [--cpus FLOAT] [--restart POLICY] ID", "update the cgroup limits or restart policy of a container", cmdUpdate}
}

func cmdPause(c *cli, args []string) error {
	got, err := c.parse(c.flags("pause"), "pause", args, 1, 1)
	if err != nil {
		return err
	}
	ct, err := c.client.Pause(c.ctx, got[0])
	if err != nil {
		return err
	}
	return c.printContainer(ct)
}

func cmdResume(c *cli, args []string) error {
	got, err := c.parse(c.flags("resume"), "resume", args, 1, 1)
	if err != nil {
		return err
	}
	ct, err := c.client.Resume(c.ctx, got[0])
	if err != nil {
		return err
	}
	return c.printContainer(ct)
}

func cmdUpdate(c *cli, args []string) error {
	var memory string
	var pids int64
	var cpus float64
	var restart string
	fs := c.flags("update")
	fs.StringVarP(&memory, "memory", "m", "", "memory limit in bytes (suffixes k, m, g)")
	fs.Int64Var(&pids, "pids", 0, "pids limit: how many processes the container may have")
	fs.Float64Var(&cpus, "cpus", 0, "number of CPUs (CPU time per second: 1.5 is one and a half)")
	fs.StringVar(&restart, "restart", "", "new restart policy: no, on-failure[:N] or always")
	got, err := c.parse(fs, "update", args, 1, 1)
	if err != nil {
		return err
	}
	req := api.UpdateRequest{}
	if memory != "" {
		m, err := parseBytes(memory)
		if err != nil {
			return fmt.Errorf("--memory: %w", err)
		}
		req.Memory = &m
	}
	if fs.Changed("pids") {
		req.Pids = &pids
	}
	if fs.Changed("cpus") {
		req.CPUs = &cpus
	}
	if fs.Changed("restart") {
		req.Restart = &restart
	}
	ct, err := c.client.Update(c.ctx, got[0], req)
	if err != nil {
		return err
	}
	return c.printContainer(ct)
}

// parseLabels reads --label KEY=VALUE flags (a bare KEY has an empty value).
func parseLabels(flags []string) (map[string]string, error) {
	if len(flags) == 0 {
		return nil, nil
	}
	labels := map[string]string{}
	for _, l := range flags {
		k, v, _ := strings.Cut(l, "=")
		if k == "" {
			return nil, fmt.Errorf("--label %s: want KEY=VALUE", strconv.Quote(l))
		}
		labels[k] = v
	}
	return labels, nil
}
