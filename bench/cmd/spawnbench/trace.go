package main

import (
	"fmt"
	"os/exec"
	"strings"

	"cm/bench"
)

// cmrunTrace runs one container with `cmrun run --trace`, which prints
// every setup step with its duration to stderr, and returns that text.
func cmrunTrace(cmrun, root, bundle string) (string, error) {
	cmd := exec.Command(cmrun, "--root", root, "run", "--trace", bench.NewID("cmrun-trace"))
	cmd.Dir = bundle
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("cmrun run --trace: %w: %s", err, stderr.String())
	}
	return stderr.String(), nil
}
