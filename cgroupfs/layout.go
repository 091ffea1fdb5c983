package cgroupfs

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"cm/cgroupfs/mountinfo"
)

// Layout names how the host mounts its cgroups.
type Layout string

const (
	// LayoutV1: only cgroup v1 hierarchies, one per controller (or per
	// group of co-mounted controllers).
	LayoutV1 Layout = "v1"
	// LayoutV2: one cgroup2 hierarchy holds every controller.
	LayoutV2 Layout = "v2"
	// LayoutHybrid: v1 controller hierarchies plus a cgroup2 mount
	// (usually /sys/fs/cgroup/unified) that holds the rest.
	LayoutHybrid Layout = "hybrid"
)

// hierarchy is one mounted cgroup tree.
type hierarchy struct {
	// mountpoint is where the tree is mounted, e.g. /sys/fs/cgroup/memory.
	mountpoint string
	// controllers are the v1 controllers bound to this tree (several when
	// co-mounted, "name=systemd" for a named tree without controllers),
	// or the controllers the cgroup2 root offers in its cgroup.controllers.
	controllers []string
	// self is the calling process's cgroup in this tree, relative to the
	// mountpoint; relative cgroupsPaths start here.
	self string
	// v2 marks the cgroup2 (unified) tree.
	v2 bool
}

func (h *hierarchy) has(controller string) bool {
	return slices.Contains(h.controllers, controller)
}

// Host is what Detect found: the layout and where each hierarchy is.
type Host struct {
	layout Layout
	// v1 lists the mounted v1 hierarchies, named ones included: a
	// container's cgroup is created in each of them.
	v1 []*hierarchy
	// unified is the cgroup2 hierarchy, nil when there is none.
	unified *hierarchy
}

// Layout reports the detected layout.
func (h *Host) Layout() Layout { return h.layout }

// Detect inspects the real host through /proc/self/mountinfo and
// /proc/self/cgroup.
func Detect() (*Host, error) {
	// The calling thread's mounts, as mountinfo.Thread reads them: the
	// main thread may sit in a private mount namespace of its own.
	mi, err := os.Open("/proc/thread-self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("detect cgroups: %w", err)
	}
	defer mi.Close()
	self, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return nil, fmt.Errorf("detect cgroups: %w", err)
	}
	defer self.Close()
	return DetectFrom(mi, self)
}

// DetectFrom builds a Host from the text of a mountinfo file and of a
// /proc/PID/cgroup file. Tests use it with mount points inside a temporary
// directory; the cgroup2 root's cgroup.controllers file is read from the
// mount point it names.
func DetectFrom(mountinfoFile io.Reader, selfCgroup io.Reader) (*Host, error) {
	mounts, err := cgroupMounts(mountinfoFile)
	if err != nil {
		return nil, err
	}
	memberships, err := parseProcCgroup(selfCgroup)
	if err != nil {
		return nil, err
	}

	h := &Host{}
	hasV1Controller := false
	for _, m := range memberships {
		if m.v2 {
			mnt := findMount(mounts, func(m mountinfo.Mount) bool { return m.FSType == "cgroup2" })
			if mnt == nil {
				continue
			}
			ctrls, err := readControllers(mnt.Point)
			if err != nil {
				return nil, err
			}
			h.unified = &hierarchy{mountpoint: mnt.Point, controllers: ctrls, self: relativeToRoot(m.path, mnt.Root), v2: true}
			continue
		}
		// A v1 hierarchy's mount lists its controllers among the super
		// options ("rw,cpu,cpuacct" or "rw,name=systemd"); /proc/self/cgroup
		// names the same controllers, which ties the two files together
		// without a list of known option names.
		mnt := findMount(mounts, func(mt mountinfo.Mount) bool {
			return mt.FSType == "cgroup" && containsAll(mt.Options, m.controllers)
		})
		if mnt == nil {
			continue // the hierarchy exists but is not mounted: unusable
		}
		h.v1 = append(h.v1, &hierarchy{mountpoint: mnt.Point, controllers: m.controllers, self: relativeToRoot(m.path, mnt.Root)})
		for _, c := range m.controllers {
			if !strings.HasPrefix(c, "name=") {
				hasV1Controller = true
			}
		}
	}

	switch {
	case hasV1Controller && h.unified != nil:
		h.layout = LayoutHybrid
	case hasV1Controller:
		h.layout = LayoutV1
	case h.unified != nil:
		h.layout = LayoutV2
	default:
		return nil, fmt.Errorf("detect cgroups: %w", ErrNoCgroups)
	}
	return h, nil
}

// lookup finds the hierarchy that holds a controller: a v1 one if the
// controller is bound to v1, else the unified one if it offers it.
func (h *Host) lookup(controller string) *hierarchy {
	for _, hi := range h.v1 {
		if hi.has(controller) {
			return hi
		}
	}
	if h.unified != nil && h.unified.has(controller) {
		return h.unified
	}
	return nil
}

// hierarchies lists every hierarchy a container's cgroup lives in.
func (h *Host) hierarchies() []*hierarchy {
	all := slices.Clone(h.v1)
	if h.unified != nil {
		all = append(all, h.unified)
	}
	return all
}

// cgroupMounts keeps the cgroup and cgroup2 lines of a mountinfo file.
func cgroupMounts(r io.Reader) ([]mountinfo.Mount, error) {
	all, err := mountinfo.Parse(r)
	if err != nil {
		return nil, err
	}
	var out []mountinfo.Mount
	for _, m := range all {
		if m.FSType == "cgroup" || m.FSType == "cgroup2" {
			out = append(out, m)
		}
	}
	return out, nil
}

// membership is one line of /proc/PID/cgroup: "ID:CONTROLLERS:PATH", with
// "0::PATH" for the cgroup2 hierarchy.
type membership struct {
	controllers []string
	path        string
	v2          bool
}

func parseProcCgroup(r io.Reader) ([]membership, error) {
	var out []membership
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			return nil, fmt.Errorf("parse /proc/self/cgroup line %q: want ID:CONTROLLERS:PATH", line)
		}
		if parts[0] == "0" && parts[1] == "" {
			out = append(out, membership{path: parts[2], v2: true})
			continue
		}
		if parts[1] == "" {
			continue // a v1 hierarchy without controllers or name: nothing to use
		}
		out = append(out, membership{controllers: strings.Split(parts[1], ","), path: parts[2]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read /proc/self/cgroup: %w", err)
	}
	return out, nil
}

func findMount(mounts []mountinfo.Mount, match func(mountinfo.Mount) bool) *mountinfo.Mount {
	for i := range mounts {
		if match(mounts[i]) {
			return &mounts[i]
		}
	}
	return nil
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// relativeToRoot turns the caller's cgroup path into a path below the
// mount point. A mount normally shows the whole tree (root "/"); one that
// shows only a subtree (a bind mount, or a mount made in another cgroup
// namespace) must have that subtree cut off the front.
func relativeToRoot(path, root string) string {
	if root == "/" || root == "" {
		return path
	}
	if path == root {
		return "/"
	}
	if rest, ok := strings.CutPrefix(path, root+"/"); ok {
		return "/" + rest
	}
	return path
}

// readControllers reads the controllers a cgroup2 directory offers.
func readControllers(dir string) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	if err != nil {
		return nil, fmt.Errorf("read cgroup2 controllers: %w", err)
	}
	return strings.Fields(string(b)), nil
}
