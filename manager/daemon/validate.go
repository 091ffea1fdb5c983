package daemon

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"cm/manager/api"
)

// namespaceTypes maps the names a request may use to OCI namespace types.
var namespaceTypes = map[string]specs.LinuxNamespaceType{
	"pid": specs.PIDNamespace, "network": specs.NetworkNamespace, "net": specs.NetworkNamespace,
	"ipc": specs.IPCNamespace, "uts": specs.UTSNamespace, "mount": specs.MountNamespace,
	"mnt": specs.MountNamespace, "cgroup": specs.CgroupNamespace, "user": specs.UserNamespace,
	"time": specs.TimeNamespace,
}

// validateCreate checks a create request before anything is recorded, so
// a bad request leaves nothing behind. Errors are *FieldError (400).
func validateCreate(req *api.CreateRequest) error {
	if err := checkName(req.Name); err != nil {
		return err
	}
	if err := checkPolicy(req); err != nil {
		return err
	}
	if err := checkLabels(req.Labels); err != nil {
		return err
	}
	if req.CPUs != 0 {
		if _, err := updateResources(api.UpdateRequest{CPUs: &req.CPUs}); err != nil {
			return err
		}
	}
	switch {
	case req.Rootfs == "" && req.Bundle == "":
		return badField("rootfs", "give rootfs (a root filesystem directory) or bundle (an OCI bundle directory)")
	case req.Rootfs != "" && req.Bundle != "":
		return badField("bundle", "give rootfs or bundle, not both")
	case req.Rootfs != "":
		if err := checkDir("rootfs", req.Rootfs); err != nil {
			return err
		}
		if err := checkHostRootfs("rootfs", "", req.Rootfs); err != nil {
			return err
		}
		if len(req.Args) == 0 {
			return badField("args", "required with rootfs: the program to run")
		}
	default:
		if err := checkDir("bundle", req.Bundle); err != nil {
			return err
		}
		spec, err := readBundleSpec(req.Bundle)
		if err != nil {
			return badField("bundle", "%v", err)
		}
		rootfs := spec.Root.Path
		if !filepath.IsAbs(rootfs) {
			rootfs = filepath.Join(req.Bundle, rootfs)
		}
		if err := checkHostRootfs("bundle", "root.path: ", rootfs); err != nil {
			return err
		}
	}
	for i, a := range req.Args {
		if i == 0 && a == "" {
			return badField("args[0]", "empty program name")
		}
	}
	for i, kv := range req.Env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return badField(fmt.Sprintf("env[%d]", i), "%q: want KEY=VALUE", kv)
		}
	}
	if req.Cwd != "" && !filepath.IsAbs(req.Cwd) {
		return badField("cwd", "%q: must be an absolute path", req.Cwd)
	}
	if req.Memory < 0 {
		return badField("memory", "must be >= 0 (got %d)", req.Memory)
	}
	if req.Pids < 0 {
		return badField("pids", "must be >= 0 (got %d)", req.Pids)
	}
	if err := validateNetwork(req); err != nil {
		return err
	}
	seen := map[specs.LinuxNamespaceType]bool{}
	for i, ns := range req.Namespaces {
		t, ok := namespaceTypes[ns]
		if !ok {
			return badField(fmt.Sprintf("namespaces[%d]", i), "unknown namespace %q", ns)
		}
		if seen[t] {
			return badField(fmt.Sprintf("namespaces[%d]", i), "%q given twice", ns)
		}
		seen[t] = true
	}
	return nil
}

func checkDir(field, path string) error {
	if !filepath.IsAbs(path) {
		return badField(field, "%q: must be an absolute path", path)
	}
	st, err := os.Stat(path)
	if err != nil {
		return badField(field, "%v", err)
	}
	if !st.IsDir() {
		return badField(field, "%s: not a directory", path)
	}
	return nil
}

// readBundleSpec loads <bundle>/config.json.
func readBundleSpec(bundle string) (*specs.Spec, error) {
	data, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return nil, err
	}
	var spec specs.Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(bundle, "config.json"), err)
	}
	if spec.Root == nil || spec.Root.Path == "" {
		return nil, fmt.Errorf("%s: root.path is missing", filepath.Join(bundle, "config.json"))
	}
	return &spec, nil
}
