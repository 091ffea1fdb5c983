package execstream

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// Request describes the process to run in the container. What it leaves
// empty comes from the container's own process: its environment (Env
// entries are added, replacing a variable of the same name), user,
// working directory, capabilities and limits.
type Request struct {
	Args  []string `json:"args"`
	Env   []string `json:"env,omitempty"`  // KEY=VALUE
	User  string   `json:"user,omitempty"` // UID or UID:GID, numbers
	Cwd   string   `json:"cwd,omitempty"`  // absolute, in the container
	Tty   bool     `json:"tty,omitempty"`  // run it on a new terminal
	Stdin bool     `json:"stdin,omitempty"`
	// Rows and Cols are the terminal's first size (0: the kernel's default).
	Rows uint16 `json:"rows,omitempty"`
	Cols uint16 `json:"cols,omitempty"`
}

// Check returns an error naming the first bad field, as "field: problem".
func (r *Request) Check() error {
	if len(r.Args) == 0 || r.Args[0] == "" {
		return fmt.Errorf("args: required: the command to run")
	}
	for _, kv := range r.Env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return fmt.Errorf("env: %q: want KEY=VALUE", kv)
		}
	}
	if r.User != "" {
		if _, _, err := r.IDs(); err != nil {
			return err
		}
	}
	if r.Cwd != "" && !filepath.IsAbs(r.Cwd) {
		return fmt.Errorf("cwd: %q: must be an absolute path", r.Cwd)
	}
	return nil
}

// IDs parses User: the uid, and the gid (-1 when not given).
func (r *Request) IDs() (uid, gid int, err error) {
	u, g, hasGID := strings.Cut(r.User, ":")
	bad := fmt.Errorf("user: %q: want UID or UID:GID, numbers", r.User)
	n, err := strconv.ParseUint(u, 10, 32)
	if err != nil {
		return 0, 0, bad
	}
	uid, gid = int(n), -1
	if hasGID {
		m, err := strconv.ParseUint(g, 10, 32)
		if err != nil {
			return 0, 0, bad
		}
		gid = int(m)
	}
	return uid, gid, nil
}
