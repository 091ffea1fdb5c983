package runtime

import "cm/runtime/rootfs"

// setupRootfs builds the container's root filesystem (see rootfs.Setup)
// from the parts of the init's config it needs.
func setupRootfs(cfg *initConfig, t *Trace, mountNS bool, beforePivot func() error) error {
	c := &rootfs.Config{Spec: cfg.Bundle.Spec, Rootfs: cfg.Bundle.Rootfs, BundleDir: cfg.Bundle.Dir,
		NoPivot: cfg.NoPivot, UserNS: cfg.UserNS, CgroupDirs: cfg.CgroupDirs}
	return rootfs.Setup(c, t, mountNS, beforePivot)
}
