package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"cm/manager/api"
	"cm/manager/network"
)

// This file gives containers created with a network mode their network
// (package network does the work): checked at create, made by prepare
// before the bundle names it, undone by rm, and by rm after a crash too,
// since the record's request says what might exist.

// publishMu makes checking a create's host ports and adding the container
// to the table one step, so two creates cannot both publish one port.
var publishMu sync.Mutex

// netnsPath is where a container's network namespace is bind-mounted:
// next to its bundle, in the container's directory.
func netnsPath(bundleDir string) string { return filepath.Join(filepath.Dir(bundleDir), "netns") }

// ownNetwork reports whether the daemon makes the container's namespace.
func ownNetwork(mode string) bool { return mode == api.NetworkNone || mode == api.NetworkBridge }

func (d *Daemon) netConfig() network.Config {
	c := d.cfg.Network
	if c.StateDir == "" {
		c.StateDir = filepath.Join(d.store.Dir(), "cni")
	}
	return c
}

// validateNetwork checks the network mode and the published ports, and
// writes each port's default protocol into the request.
func validateNetwork(req *api.CreateRequest) error {
	switch req.Network {
	case "", api.NetworkNone, api.NetworkHost, api.NetworkBridge:
	default:
		return badField("network", "unknown network %q: want none, host or bridge", req.Network)
	}
	if len(req.Ports) > 0 && req.Network != api.NetworkBridge {
		mode := req.Network
		if mode == "" {
			mode = "the default"
		}
		return badField("ports", "publishing ports needs network bridge (network is %s)", mode)
	}
	seen := map[api.PortMapping]bool{}
	for i := range req.Ports {
		p := &req.Ports[i]
		field := fmt.Sprintf("ports[%d]", i)
		if p.Protocol == "" {
			p.Protocol = "tcp"
		}
		switch {
		case p.Protocol != "tcp" && p.Protocol != "udp":
			return badField(field, "protocol %q: want tcp or udp", p.Protocol)
		case p.HostPort < 1 || p.HostPort > 65535:
			return badField(field, "host port %d: want 1 to 65535", p.HostPort)
		case p.ContainerPort < 1 || p.ContainerPort > 65535:
			return badField(field, "container port %d: want 1 to 65535", p.ContainerPort)
		}
		key := api.PortMapping{HostPort: p.HostPort, Protocol: p.Protocol}
		if seen[key] {
			return badField(field, "host port %d/%s is published twice", p.HostPort, p.Protocol)
		}
		seen[key] = true
	}
	return nil
}

// checkPorts refuses host ports that another container publishes or a
// host process listens on. The caller holds publishMu until the new
// container is in the table.
func (d *Daemon) checkPorts(req api.CreateRequest) error {
	for i, p := range req.Ports {
		field := fmt.Sprintf("ports[%d]", i)
		for _, other := range d.table.List() {
			if other.Snap().Deleting {
				continue
			}
			for _, q := range other.Spec.Ports {
				if q.HostPort == p.HostPort && q.Protocol == p.Protocol {
					return badField(field, "host port %d/%s is already published by container %s", p.HostPort, p.Protocol, other.ID)
				}
			}
		}
		if err := network.HostPortFree(p); err != nil {
			return badField(field, "%v", err)
		}
	}
	return nil
}

// applyNetwork puts the network mode into the container's config: no
// network namespace for host, the daemon's bind-mounted one for none and
// bridge; the default leaves the base config as it is.
func applyNetwork(spec *specs.Spec, mode, netns string) {
	if mode == "" {
		return
	}
	l := spec.Linux
	l.Namespaces = slices.DeleteFunc(l.Namespaces, func(ns specs.LinuxNamespace) bool { return ns.Type == specs.NetworkNamespace })
	if ownNetwork(mode) {
		l.Namespaces = append(l.Namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: netns})
	}
}

// setupNetwork makes the container's network before its bundle names it.
// What an earlier attempt left (the daemon died half-way) is undone
// first; a failed setup is undone at once.
func (d *Daemon) setupNetwork(ctx context.Context, e *entry) error {
	mode := e.Spec.Network
	if !ownNetwork(mode) {
		return nil
	}
	cfg, ns := d.netConfig(), netnsPath(d.bundleDir(e.ID))
	// Setup makes the namespace file first: without it nothing else exists.
	if _, err := os.Lstat(ns); err == nil {
		if err := cfg.Teardown(ctx, e.ID, ns, mode, e.Spec.Ports); err != nil {
			return fmt.Errorf("network of %s: undo an earlier setup: %w", e.ID, err)
		}
	}
	st, err := cfg.Setup(ctx, e.ID, ns, mode, e.Spec.Ports)
	if err != nil {
		// Not ctx: the request may be what ended, and the undo must run.
		if terr := cfg.Teardown(context.Background(), e.ID, ns, mode, e.Spec.Ports); terr != nil {
			d.log.Warn("network: undo a failed setup; rm retries", "id", e.ID, "err", terr)
		}
		return fmt.Errorf("network of %s: %w", e.ID, err)
	}
	d.nets.Store(e.ID, st)
	return nil
}

// teardownNetwork undoes whatever of the container's network exists. It
// fails only if something may be left, so that rm can be retried.
func (d *Daemon) teardownNetwork(ctx context.Context, e *entry) error {
	mode := e.Spec.Network
	if !ownNetwork(mode) {
		return nil
	}
	d.nets.Delete(e.ID)
	if err := d.netConfig().Teardown(ctx, e.ID, netnsPath(d.bundleDir(e.ID)), mode, e.Spec.Ports); err != nil {
		return fmt.Errorf("network of %s: %w", e.ID, err)
	}
	return nil
}

// networkView is what inspect shows of the container's network: the
// result of its setup, kept by libcni's cache across daemon restarts.
func (d *Daemon) networkView(e *entry) *api.NetworkStatus {
	mode := e.Spec.Network
	switch {
	case mode == "":
		return nil
	case !ownNetwork(mode):
		return &api.NetworkStatus{Mode: mode}
	}
	if st, ok := d.nets.Load(e.ID); ok {
		return st.(*api.NetworkStatus)
	}
	ns := netnsPath(d.bundleDir(e.ID))
	st, err := d.netConfig().Status(e.ID, ns, mode, e.Spec.Ports)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			d.log.Debug("network status", "id", e.ID, "err", err)
		}
		return &api.NetworkStatus{Mode: mode}
	}
	d.nets.Store(e.ID, st)
	return st
}
