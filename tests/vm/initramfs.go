package vm

import (
	"bufio"
	"debug/elf"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// initramfsContents is everything one run puts in the guest.
type initramfsContents struct {
	Init   string            // text of /init
	Binary string            // host path of the program, becomes /test.bin
	Files  map[string]string // host path → guest path
}

// writeInitramfs writes the guest's root filesystem as an uncompressed
// newc cpio to dst: a static busybox with its applet links, /init, the
// program, the shared libraries it needs and the extra files. The kernel
// copies it into a tmpfs, so the guest can write anywhere.
// It is not compressed: measured, gzip saved no boot time at these
// sizes (about 12 MB) and would only add a step.
func writeInitramfs(dst string, c initramfsContents) error {
	busybox, applets, err := staticBusybox()
	if err != nil {
		return err
	}
	libs, err := sharedLibraries(c.Binary)
	if err != nil {
		return err
	}

	f, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("create initramfs: %w", err)
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	r := &rootfs{cpio: newCPIOWriter(bw), entries: map[string]bool{}}

	for _, d := range []string{"bin", "sbin", "usr/bin", "usr/sbin", "proc", "sys", "dev", "root", "etc", "run"} {
		r.dir(d, 0o755)
	}
	r.dir("tmp", 0o777|fs.ModeSticky)
	r.hostFile("bin/busybox", busybox)
	for _, a := range applets {
		if a != "bin/busybox" {
			r.symlink(a, "/bin/busybox")
		}
	}
	// Enough of a user database for programs that look up root.
	r.file("etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/bin/sh\n"))
	r.file("etc/group", 0o644, []byte("root:x:0:\n"))
	r.file("init", 0o755, []byte(c.Init))
	r.hostFile(strings.TrimPrefix(guestBinary, "/"), c.Binary)
	for _, l := range libs {
		r.hostFile(l, l)
	}

	// Sorted, so the same inputs give the same archive.
	hosts := make([]string, 0, len(c.Files))
	for h := range c.Files {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	for _, h := range hosts {
		r.hostFile(c.Files[h], h)
	}

	if r.err == nil {
		r.err = r.cpio.Close()
	}
	if r.err == nil {
		r.err = bw.Flush()
	}
	if r.err != nil {
		return fmt.Errorf("write initramfs %s: %w", dst, r.err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write initramfs %s: %w", dst, err)
	}
	return nil
}

// rootfs adds entries to the archive, creating parent directories
// first (the kernel needs them before their contents) and refusing two
// entries with one name. The first error sticks and later calls do
// nothing, which keeps writeInitramfs a plain list.
type rootfs struct {
	cpio    *cpioWriter
	entries map[string]bool // guest paths without the leading slash
	err     error
}

// claim cleans a guest path, makes its parents and reports whether
// the entry should be written.
func (r *rootfs) claim(name string) (string, bool) {
	if r.err != nil {
		return "", false
	}
	clean := strings.TrimPrefix(path.Clean("/"+name), "/")
	if clean == "" {
		r.err = fmt.Errorf("guest path %q names the root", name)
		return "", false
	}
	if r.entries[clean] {
		r.err = fmt.Errorf("guest path /%s added twice", clean)
		return "", false
	}
	if parent := path.Dir(clean); parent != "." && !r.entries[parent] {
		r.dir(parent, 0o755)
	}
	r.entries[clean] = true
	return clean, r.err == nil
}

func (r *rootfs) dir(name string, perm fs.FileMode) {
	if name, ok := r.claim(name); ok {
		r.err = r.cpio.Dir(name, perm)
	}
}

func (r *rootfs) file(name string, perm fs.FileMode, data []byte) {
	if name, ok := r.claim(name); ok {
		r.err = r.cpio.File(name, perm, data)
	}
}

func (r *rootfs) symlink(name, target string) {
	if name, ok := r.claim(name); ok {
		r.err = r.cpio.Symlink(name, target)
	}
}

// hostFile copies a host file, following symlinks, with its permissions.
func (r *rootfs) hostFile(name, host string) {
	if r.err != nil {
		return
	}
	st, err := os.Stat(host)
	if err != nil {
		r.err = fmt.Errorf("add %s to the guest: %w", host, err)
		return
	}
	if !st.Mode().IsRegular() {
		r.err = fmt.Errorf("add %s to the guest: not a regular file", host)
		return
	}
	data, err := os.ReadFile(host)
	if err != nil {
		r.err = fmt.Errorf("add %s to the guest: %w", host, err)
		return
	}
	r.file(name, st.Mode(), data)
}

// staticBusybox finds the host's busybox, insists that it is the static
// build (the guest has no libraries for it) and lists its applets as
// guest paths ("bin/sh", "usr/bin/env", ...).
func staticBusybox() (string, []string, error) {
	bin, err := lookTool("busybox")
	if err != nil {
		return "", nil, err
	}
	bin, err = filepath.EvalSymlinks(bin)
	if err != nil {
		return "", nil, fmt.Errorf("resolve busybox: %w", err)
	}
	f, err := elf.Open(bin)
	if err != nil {
		return "", nil, fmt.Errorf("read busybox: %w", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return "", nil, fmt.Errorf("%s is dynamically linked: install busybox-static instead of busybox: %w", bin, ErrMissingPackage)
		}
	}
	out, err := exec.Command(bin, "--list-full").Output()
	if err != nil {
		return "", nil, fmt.Errorf("busybox --list-full: %w", err)
	}
	return bin, strings.Fields(string(out)), nil
}
