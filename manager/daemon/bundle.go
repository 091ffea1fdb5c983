package daemon

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"cm/manager/api"
	rtspec "cm/runtime/spec"
)

// cgroupsPath is where cmrun puts a container's cgroup. The daemon never
// creates it: the runtime does, under the path written here.
func cgroupsPath(id string) string { return "/cm/" + id }

// buildSpec makes the container's OCI config: the request's bundle config,
// or cmrun's default (the same as `runc spec`) around the rootfs, with the
// request's process, limits and namespaces on top.
func buildSpec(id, name string, req api.CreateRequest) (*specs.Spec, error) {
	var spec *specs.Spec
	if req.Bundle != "" {
		var err error
		if spec, err = readBundleSpec(req.Bundle); err != nil {
			return nil, err
		}
		// The config moves to another directory: anchor its rootfs.
		if !filepath.IsAbs(spec.Root.Path) {
			spec.Root.Path = filepath.Join(req.Bundle, spec.Root.Path)
		}
	} else {
		spec = rtspec.DefaultSpec()
		spec.Root.Path = req.Rootfs
		spec.Hostname = id[:12]
		if name != "" {
			spec.Hostname = name
		}
	}
	if spec.Process == nil {
		spec.Process = &specs.Process{Cwd: "/"}
	}
	p := spec.Process
	p.Terminal = false // output goes to the shim's log file, not a terminal
	if len(req.Args) > 0 {
		p.Args = req.Args
	}
	p.Env = mergeEnv(p.Env, req.Env)
	if req.Cwd != "" {
		p.Cwd = req.Cwd
	}
	if spec.Linux == nil {
		spec.Linux = &specs.Linux{}
	}
	l := spec.Linux
	l.CgroupsPath = cgroupsPath(id)
	if req.Memory > 0 || req.Pids > 0 {
		if l.Resources == nil {
			l.Resources = &specs.LinuxResources{}
		}
		if req.Memory > 0 {
			l.Resources.Memory = &specs.LinuxMemory{Limit: &req.Memory}
		}
		if req.Pids > 0 {
			l.Resources.Pids = &specs.LinuxPids{Limit: &req.Pids}
		}
	}
	if req.CPUs > 0 {
		if l.Resources == nil {
			l.Resources = &specs.LinuxResources{}
		}
		quota, period := cpuQuota(req.CPUs), uint64(cpuPeriod)
		l.Resources.CPU = &specs.LinuxCPU{Quota: &quota, Period: &period}
	}
	if req.Namespaces != nil {
		l.Namespaces = nil
		for _, ns := range req.Namespaces {
			l.Namespaces = append(l.Namespaces, specs.LinuxNamespace{Type: namespaceTypes[ns]})
		}
	}
	return spec, nil
}

// mergeEnv adds extra KEY=VALUE pairs to base, replacing base's value of a key.
func mergeEnv(base, extra []string) []string {
	out := append([]string(nil), base...)
	for _, kv := range extra {
		key, _, _ := strings.Cut(kv, "=")
		replaced := false
		for i, old := range out {
			if k, _, _ := strings.Cut(old, "="); k == key {
				out[i], replaced = kv, true
			}
		}
		if !replaced {
			out = append(out, kv)
		}
	}
	return out
}

// writeBundle writes the container's config.json into dir.
func writeBundle(dir, id, name string, req api.CreateRequest) error {
	spec, err := buildSpec(id, name, req)
	if err != nil {
		return fmt.Errorf("build config for %s: %w", id, err)
	}
	applyNetwork(spec, req.Network, netnsPath(dir))
	data, err := json.MarshalIndent(spec, "", "\t")
	if err != nil {
		return fmt.Errorf("encode config for %s: %w", id, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create bundle %s: %w", dir, err)
	}
	// Before config.json: once it exists a shim may make the mount points.
	if err := recordMountpoints(dir, spec); err != nil {
		return fmt.Errorf("bundle of %s: %w", id, err)
	}
	// No fsync: only a power loss loses page-cache writes, and it also
	// kills the shim that read this file; a container whose bundle was
	// begun but whose shim never spoke becomes LOST after a restart,
	// whatever the file holds. The rename keeps readers from a half file.
	path := filepath.Join(dir, "config.json")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
