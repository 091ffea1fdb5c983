package bench

import (
	"fmt"
	"os/exec"
	"strings"
)

// BuildC compiles one C file into a static, optimised program. Static,
// so the dynamic loader's work is neither timed nor counted in RSS.
func BuildC(src, out string) error {
	cmd := exec.Command("gcc", "-O2", "-static", "-Wall", "-o", out, src)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("compile %s: %w: %s", src, err, strings.TrimSpace(string(msg)))
	}
	return nil
}
