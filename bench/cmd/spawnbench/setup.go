package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ociVersion is what the benchmark's config.json claims. cmrun writes
// specs.Version (1.3.0), which crun 1.8.1 rejects with "unknown version
// specified"; the field is only a label and changes nothing the runtimes
// do, so every contender gets the same config with the older label.
const ociVersion = "1.0.2"

// makeBundle builds a busybox bundle running /bin/true with the
// project's tests/mkbundle.sh and cmrun's default config, then relabels
// its ociVersion (see above) and, without seccomp, drops the profile.
func makeBundle(mkbundle, cmrun, dir string, seccomp bool) error {
	cmd := exec.Command(mkbundle, dir, "true")
	cmd.Env = append(os.Environ(), "CMRUN="+cmrun)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("make bundle %s: %w: %s", dir, err, strings.TrimSpace(string(out)))
	}
	_, err := editConfig(dir, func(s *specs.Spec) {
		s.Version = ociVersion
		if !seccomp {
			s.Linux.Seccomp = nil
		}
	})
	return err
}

// editConfig loads dir/config.json, applies edit, writes it back and
// returns the result.
func editConfig(dir string, edit func(*specs.Spec)) (*specs.Spec, error) {
	path := filepath.Join(dir, "config.json")
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
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
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
