package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"cm/bench"
)

// ociVersion is what the benchmark's config.json claims. cmrun writes
// specs.Version (1.3.0), which crun 1.8.1 rejects with "unknown version
// specified"; the field is only a label and changes nothing the runtimes
// do, so every contender gets the same config with the older label.
const ociVersion = "1.0.2"

// spawnConfig is one config.json every runtime runs, in its own bundle.
type spawnConfig struct {
	name   string // bench.ConfigRuncSpec, ...
	bundle string // absolute
}

// makeBundles builds the two bundles of the benchmark, sharing one
// busybox root filesystem: runc's default config.json (`cmrun spec`)
// running true without a terminal, and the same with podman's seccomp
// section from profile.
func makeBundles(mkbundle, cmrun, work, profile string) ([]spawnConfig, error) {
	plain := filepath.Join(work, "bundle-"+bench.ConfigRuncSpec)
	cmd := exec.Command(mkbundle, plain, "true")
	cmd.Env = append(os.Environ(), "CMRUN="+cmrun)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("make bundle %s: %w: %s", plain, err, strings.TrimSpace(string(out)))
	}
	// mkbundle writes cm's stricter default; the issue measures runc's.
	if err := os.Remove(filepath.Join(plain, "config.json")); err != nil {
		return nil, fmt.Errorf("replace cm's config: %w", err)
	}
	if out, err := exec.Command(cmrun, "spec", "--bundle", plain, "--", "true").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("cmrun spec: %w: %s", err, strings.TrimSpace(string(out)))
	}
	if _, err := editConfig(plain, plain, func(s *specs.Spec) {
		s.Version = ociVersion
		s.Root.Path = filepath.Join(plain, "rootfs")
	}); err != nil {
		return nil, err
	}

	seccomp, err := loadProfile(profile)
	if err != nil {
		return nil, err
	}
	filtered := filepath.Join(work, "bundle-"+bench.ConfigPodmanSeccomp)
	if err := os.MkdirAll(filtered, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", filtered, err)
	}
	if _, err := editConfig(plain, filtered, func(s *specs.Spec) { s.Linux.Seccomp = seccomp }); err != nil {
		return nil, err
	}
	return []spawnConfig{{bench.ConfigRuncSpec, plain}, {bench.ConfigPodmanSeccomp, filtered}}, nil
}

// loadProfile reads the seccomp section saved by bench/profiles/podman-seccomp.sh.
func loadProfile(path string) (*specs.LinuxSeccomp, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read seccomp profile: %w (make bench-profile writes it)", err)
	}
	var saved struct {
		Seccomp *specs.LinuxSeccomp `json:"seccomp"`
	}
	if err := json.Unmarshal(data, &saved); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	if saved.Seccomp == nil || len(saved.Seccomp.Syscalls) == 0 {
		return nil, fmt.Errorf("%s has no seccomp section", path)
	}
	return saved.Seccomp, nil
}

// editConfig loads from/config.json, applies edit and writes the result
// to to/config.json (the same directory or another bundle's).
func editConfig(from, to string, edit func(*specs.Spec)) (*specs.Spec, error) {
	path := filepath.Join(from, "config.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var spec specs.Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	edit(&spec)
	data, err = json.MarshalIndent(&spec, "", "\t")
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", path, err)
	}
	out := filepath.Join(to, "config.json")
	if err := os.WriteFile(out, data, 0o644); err != nil {
		return nil, fmt.Errorf("write %s: %w", out, err)
	}
	return &spec, nil
}

// version returns the first line of `bin --version`.
func version(bin string) string {
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return first
}
