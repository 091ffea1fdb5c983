package cgroupfs

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Apply writes each section of the resources into the hierarchy that holds
// its controller, with the v1 or v2 file names and units that hierarchy
// uses. On a hybrid host that means, for example, memory limits in the v1
// memory tree and huge page limits in the unified tree.
func (g *group) Apply(r *specs.LinuxResources) ([]string, error) {
	if r == nil {
		return nil, nil
	}
	if err := g.host.ValidateResources(r); err != nil {
		return nil, fmt.Errorf("apply resources to cgroup %s: %w", g.path, err)
	}
	var warnings []string
	if err := g.apply(r, &warnings); err != nil {
		return warnings, fmt.Errorf("apply resources to cgroup %s: %w", g.path, err)
	}
	return warnings, nil
}

func (g *group) apply(r *specs.LinuxResources, warnings *[]string) error {
	warn := func(w []string) { *warnings = append(*warnings, w...) }

	if memorySet(r.Memory) {
		d, _ := g.dirOf("memory")
		var w []string
		var err error
		if d.h.v2 {
			w, err = applyV2Memory(d.dir, r.Memory)
		} else {
			w, err = applyV1Memory(d.dir, r.Memory)
		}
		warn(w)
		if err != nil {
			return err
		}
	}
	if cpuSet(r.CPU) {
		d, _ := g.dirOf("cpu")
		var err error
		if d.h.v2 {
			err = applyV2CPU(d.dir, r.CPU)
		} else {
			err = applyV1CPU(d.dir, r.CPU)
		}
		if err != nil {
			return err
		}
	}
	if r.CPU != nil && (r.CPU.Cpus != "" || r.CPU.Mems != "") {
		// cpuset.cpus and cpuset.mems have the same names in v1 and v2.
		d, _ := g.dirOf("cpuset")
		if err := applyCpuset(d.dir, r.CPU.Cpus, r.CPU.Mems); err != nil {
			return err
		}
	}
	if r.Pids != nil && r.Pids.Limit != nil {
		d, _ := g.dirOf("pids")
		if err := writeFile(d.dir, "pids.max", v2Limit(*r.Pids.Limit)); err != nil {
			return err
		}
	}
	if blockIOSet(r.BlockIO) {
		if d, ok := g.dirOf("blkio"); ok {
			if err := applyV1BlockIO(d.dir, r.BlockIO); err != nil {
				return err
			}
		} else {
			d, _ := g.dirOf("io")
			w, err := applyV2IO(d.dir, r.BlockIO)
			warn(w)
			if err != nil {
				return err
			}
		}
	}
	if len(r.HugepageLimits) > 0 {
		d, _ := g.dirOf("hugetlb")
		if err := applyHugetlb(d.dir, d.h.v2, r.HugepageLimits); err != nil {
			return err
		}
	}
	if len(r.Devices) > 0 {
		if d, ok := g.dirOf("devices"); ok {
			if err := applyV1Devices(d.dir, r.Devices); err != nil {
				return err
			}
		} else {
			// Without a v1 devices controller, cgroup v2 enforces the
			// rules with an eBPF program (ValidateResources made sure
			// there is a v2 hierarchy).
			dir, _ := g.unifiedDir()
			if err := applyV2Devices(dir, r.Devices); err != nil {
				return err
			}
		}
	}
	if n := r.Network; n != nil {
		if err := g.applyNetwork(n); err != nil {
			return err
		}
	}
	if len(r.Rdma) > 0 {
		d, _ := g.dirOf("rdma")
		if err := applyRdma(d.dir, r.Rdma); err != nil {
			return err
		}
	}
	// Unified goes last so that its raw values win over converted ones.
	if len(r.Unified) > 0 {
		dir, _ := g.unifiedDir()
		if err := applyUnified(dir, r.Unified); err != nil {
			return err
		}
	}
	return nil
}
