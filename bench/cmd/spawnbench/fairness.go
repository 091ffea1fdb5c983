package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"cm/bench"
)

// fairnessScript prints, from inside a container, what confines it:
// capabilities, no_new_privs, seccomp, hostname, pid, rlimit, user,
// network devices and every mount. Equal output means the runtimes did
// comparable work.
const fairnessScript = `grep -E '^(Cap|NoNewPrivs|Seccomp)' /proc/self/status; hostname; echo "pid $$"; ` +
	`echo "nofile $(ulimit -n)"; id; echo "netdevs $(tail -n +3 /proc/net/dev | wc -l)"; ` +
	`cut -d' ' -f2,3 /proc/self/mounts | sort`

// checkFairness runs fairnessScript under every runtime with one
// config of the benchmark (only the command differs) and reports how
// each one's view differs from the first's. Differences are reported,
// not fatal: the reader judges whether they matter.
func checkFairness(runtimes []bench.Command, cfg spawnConfig, work string) (string, error) {
	dir := filepath.Join(work, "fairness-"+cfg.name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", dir, err)
	}
	if _, err := editConfig(cfg.bundle, dir, func(s *specs.Spec) {
		s.Process.Args = []string{"sh", "-c", fairnessScript}
	}); err != nil {
		return "", err
	}

	views := make([][]string, len(runtimes))
	for i, rt := range runtimes {
		argv := rt.Argv(bench.NewID(rt.Name + "-check"))
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("fairness check under %s: %w", rt.Name, err)
		}
		views[i] = strings.Split(strings.TrimSpace(string(out)), "\n")
	}

	var b strings.Builder
	first := runtimes[0].Name
	fmt.Fprintf(&b, "Inside the container, %s (capabilities, no_new_privs, seccomp, hostname, pid, rlimit, user, network devices, mounts):\n", cfg.name)
	for i := 1; i < len(runtimes); i++ {
		onlyFirst, onlyThis := lineDiff(views[0], views[i])
		if len(onlyFirst) == 0 && len(onlyThis) == 0 {
			fmt.Fprintf(&b, "- %s sees the same as %s.\n", runtimes[i].Name, first)
			continue
		}
		fmt.Fprintf(&b, "- %s differs from %s: only %s has %s; only %s has %s.\n",
			runtimes[i].Name, first, first, quoted(onlyFirst), runtimes[i].Name, quoted(onlyThis))
	}
	return b.String(), nil
}

// lineDiff returns the lines only in a and the lines only in b.
func lineDiff(a, b []string) (onlyA, onlyB []string) {
	for _, l := range a {
		if !slices.Contains(b, l) {
			onlyA = append(onlyA, l)
		}
	}
	for _, l := range b {
		if !slices.Contains(a, l) {
			onlyB = append(onlyB, l)
		}
	}
	return onlyA, onlyB
}

// quoted lists lines for a sentence, or says "nothing".
func quoted(lines []string) string {
	if len(lines) == 0 {
		return "nothing"
	}
	q := make([]string, len(lines))
	for i, l := range lines {
		q[i] = fmt.Sprintf("%q", l)
	}
	return strings.Join(q, ", ")
}
