package vm

import (
	"errors"
	"fmt"
	"os/exec"
)

// ErrMissingPackage means a host program the harness needs is not
// installed; the error text names the Debian package that provides it.
var ErrMissingPackage = errors.New("missing Debian package")

// HostPackages are the Debian packages the harness needs on the host,
// beyond apt, dpkg and libc-bin (ldd), which every Debian system has.
// zstd is there for kernels compressed with it; Debian 12's use xz.
var HostPackages = []string{"qemu-system-x86", "busybox-static", "xz-utils", "zstd"}

// toolPackage maps each program the harness runs to its Debian package.
var toolPackage = map[string]string{
	"qemu-system-x86_64": "qemu-system-x86",
	"busybox":            "busybox-static",
	"xz":                 "xz-utils",
	"zstd":               "zstd",
	"apt-get":            "apt",
	"apt-cache":          "apt",
	"dpkg-deb":           "dpkg",
	"ldd":                "libc-bin",
}

// lookTool finds a program in $PATH (and the sbin directories, which a
// non-login root shell may lack) or says which package to install.
func lookTool(name string) (string, error) {
	path, err := exec.LookPath(name)
	if err == nil {
		return path, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
		if p, err := exec.LookPath(dir + "/" + name); err == nil {
			return p, nil
		}
	}
	pkg := toolPackage[name]
	if pkg == "" {
		pkg = "(unknown)"
	}
	return "", fmt.Errorf("%s not found: install it with `apt-get install %s` (make deps-test does): %w", name, pkg, ErrMissingPackage)
}
