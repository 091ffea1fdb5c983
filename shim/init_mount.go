package shim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"cm/runtime"
	"cm/runtime/lazyjson"
)

// InitPath is where cminit appears inside a container started with --init.
const InitPath = "/sbin/cm-init"

// InitBinary is cminit's file name; it is looked for next to cmshim.
const InitBinary = "cminit"

// addInit makes the bundle run cminit as the container's PID 1: a
// program that is not written to be PID 1 ignores SIGTERM (the kernel
// drops signals PID 1 has no handler for) and never reaps orphans.
func addInit(bundle string) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("--init: find cmshim: %w", err)
	}
	initBin := filepath.Join(filepath.Dir(exe), InitBinary)
	if _, err := os.Stat(initBin); err != nil {
		return fmt.Errorf("--init: %w", err)
	}
	config := filepath.Join(bundle, "config.json")
	data, err := os.ReadFile(config)
	if err != nil {
		return fmt.Errorf("--init: %w", err)
	}
	var s specs.Spec
	if err := lazyjson.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("--init: parse %s: %w", config, err)
	}
	if !withInit(&s, initBin) {
		return nil
	}
	if data, err = lazyjson.Marshal(&s); err != nil {
		return fmt.Errorf("--init: encode config: %w", err)
	}
	var indented bytes.Buffer
	json.Indent(&indented, data, "", "  ") // cannot fail on what Marshal wrote
	data = indented.Bytes()
	// The bundle may belong to someone else: no fixed temporary name.
	if err := runtime.WriteFileAtomic(config, data, 0o644); err != nil {
		return fmt.Errorf("--init: %w", err)
	}
	return nil
}

// withInit adds a read-only bind mount of the static cminit binary (it
// must run from inside the container's root filesystem, where no host
// library exists) and puts it in front of process.args. It reports
// whether it changed s: a bundle already set up is left alone.
func withInit(s *specs.Spec, initBin string) bool {
	if s.Process == nil || (len(s.Process.Args) > 0 && s.Process.Args[0] == InitPath) {
		return false
	}
	s.Mounts = append(s.Mounts, specs.Mount{
		Destination: InitPath, Type: "bind", Source: initBin, Options: []string{"bind", "ro"},
	})
	s.Process.Args = append([]string{InitPath, "--"}, slices.Clone(s.Process.Args)...)
	return true
}
