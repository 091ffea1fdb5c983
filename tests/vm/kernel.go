package vm

import (
	"archive/tar"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// kernelMetaPackage always depends on Debian's current amd64 kernel.
const kernelMetaPackage = "linux-image-amd64"

// EnsureKernel returns the path of an uncompressed kernel (vmlinux) to
// boot. The first call downloads the kernel package that
// linux-image-amd64 currently depends on into cacheDir (apt-get
// download: nothing is installed), unpacks only its bzImage into
// <cacheDir>/<package>/ and points the link <cacheDir>/vmlinux at it.
// Later calls follow that link and do no work, not even ask apt; so
// tests keep one kernel until the cache is removed (make clean).
func EnsureKernel(cacheDir string) (string, error) {
	cacheDir, err := filepath.Abs(cacheDir) // qemu gets the path; make it independent of the working directory
	if err != nil {
		return "", fmt.Errorf("kernel cache %s: %w", cacheDir, err)
	}
	link := filepath.Join(cacheDir, "vmlinux")
	if path, err := filepath.EvalSymlinks(link); err == nil {
		return path, nil
	}

	// Two test processes may want the kernel at once: one downloads, the
	// other waits here and then finds it.
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", fmt.Errorf("create kernel cache %s: %w", cacheDir, err)
	}
	unlock, err := lockDir(cacheDir)
	if err != nil {
		return "", err
	}
	defer unlock()
	if path, err := filepath.EvalSymlinks(link); err == nil {
		return path, nil
	}

	pkg, err := currentKernelPackage()
	if err != nil {
		return "", err
	}
	vmlinux := filepath.Join(cacheDir, pkg, "vmlinux")
	if _, err := os.Stat(vmlinux); err != nil {
		if err := fetchKernel(cacheDir, pkg); err != nil {
			return "", err
		}
	}
	// A relative link, so the cache can move with the repository.
	tmpLink := link + ".new"
	os.Remove(tmpLink)
	if err := os.Symlink(filepath.Join(pkg, "vmlinux"), tmpLink); err != nil {
		return "", fmt.Errorf("link kernel: %w", err)
	}
	if err := os.Rename(tmpLink, link); err != nil {
		return "", fmt.Errorf("link kernel: %w", err)
	}
	return vmlinux, nil
}

// fetchKernel downloads pkg and leaves its vmlinuz and the vmlinux
// inside it in <cacheDir>/<pkg>/. The caller holds the cache's lock.
func fetchKernel(cacheDir, pkg string) error {
	// Work in a temporary directory and rename it into place, so an
	// interrupted download never leaves a half-written kernel behind.
	// Directories left by a killed download are removed first: holding
	// the lock, nobody else is using them.
	if stale, err := filepath.Glob(filepath.Join(cacheDir, ".download-*")); err == nil {
		for _, d := range stale {
			os.RemoveAll(d)
		}
	}
	tmp, err := os.MkdirTemp(cacheDir, ".download-")
	if err != nil {
		return fmt.Errorf("create download directory: %w", err)
	}
	defer os.RemoveAll(tmp)
	deb, err := downloadPackage(pkg, tmp)
	if err != nil {
		return err
	}
	bz, err := fileFromDeb(deb, "./boot/vmlinuz-")
	if err != nil {
		return err
	}
	elf, err := vmlinuxFromBzImage(bz)
	if err != nil {
		return fmt.Errorf("unpack kernel of %s: %w", pkg, err)
	}
	unpacked := filepath.Join(tmp, "kernel")
	if err := os.Mkdir(unpacked, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", unpacked, err)
	}
	for name, data := range map[string][]byte{"vmlinuz": bz, "vmlinux": elf} {
		if err := os.WriteFile(filepath.Join(unpacked, name), data, 0o644); err != nil {
			return fmt.Errorf("write kernel: %w", err)
		}
	}
	if err := os.Rename(unpacked, filepath.Join(cacheDir, pkg)); err != nil {
		return fmt.Errorf("move kernel into cache: %w", err)
	}
	return nil
}

// DefaultCacheDir is build/vm in the root of the Go module holding the
// current directory (go test runs in the package's directory), which
// the repository's .gitignore already ignores.
func DefaultCacheDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find kernel cache: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "build", "vm"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find kernel cache: no go.mod above the current directory")
		}
		dir = parent
	}
}

// currentKernelPackage asks apt which linux-image-<abi>-amd64 the
// meta-package depends on; this reads apt's local lists only.
func currentKernelPackage() (string, error) {
	aptCache, err := lookTool("apt-cache")
	if err != nil {
		return "", err
	}
	out, err := exec.Command(aptCache, "depends", kernelMetaPackage).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("apt-cache depends %s: %w: %s", kernelMetaPackage, err, bytes.TrimSpace(out))
	}
	pkg := parseKernelDepends(string(out))
	if pkg == "" {
		return "", fmt.Errorf("apt-cache depends %s names no linux-image-*-amd64 package (run apt-get update?):\n%s", kernelMetaPackage, out)
	}
	return pkg, nil
}

// parseKernelDepends picks the kernel out of `apt-cache depends` output:
//
//	linux-image-amd64
//	  Depends: linux-image-6.1.0-56-amd64
func parseKernelDepends(out string) string {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		// A leading "|" marks an alternative; "<name>" a virtual package.
		line := strings.TrimPrefix(strings.TrimSpace(sc.Text()), "|")
		dep, ok := strings.CutPrefix(line, "Depends: ")
		if !ok {
			continue
		}
		dep = strings.Trim(dep, "<>")
		if strings.HasPrefix(dep, "linux-image-") && strings.HasSuffix(dep, "-amd64") && dep != kernelMetaPackage {
			return dep
		}
	}
	return ""
}

// downloadPackage fetches one .deb into dir and returns its path.
func downloadPackage(pkg, dir string) (string, error) {
	aptGet, err := lookTool("apt-get")
	if err != nil {
		return "", err
	}
	cmd := exec.Command(aptGet, "download", "-q", pkg)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("apt-get download %s (run apt-get update if the lists are stale): %w: %s", pkg, err, bytes.TrimSpace(out))
	}
	debs, err := filepath.Glob(filepath.Join(dir, "*.deb"))
	if err != nil || len(debs) != 1 {
		return "", fmt.Errorf("apt-get download %s: expected one .deb in %s, found %v", pkg, dir, debs)
	}
	return debs[0], nil
}

// fileFromDeb returns the first file in a .deb whose path starts with
// prefix. Reading the data archive through dpkg-deb and stopping at that
// file avoids unpacking the 400 MB of kernel modules.
func fileFromDeb(deb, prefix string) ([]byte, error) {
	dpkgDeb, err := lookTool("dpkg-deb")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(dpkgDeb, "--fsys-tarfile", deb)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("dpkg-deb --fsys-tarfile %s: %w", deb, err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	// dpkg-deb runs the decompressor as a child process, in a process
	// group of their own so that both can be stopped together.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("dpkg-deb --fsys-tarfile %s: %w", deb, err)
	}
	// We stop reading once the file is found; dying of the kill is
	// then not an error.
	defer func() {
		_ = unix.Kill(-cmd.Process.Pid, unix.SIGKILL)
		_ = cmd.Wait()
	}()

	tr := tar.NewReader(stdout)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("no %s* in %s: %s", prefix, deb, bytes.TrimSpace(stderr.Bytes()))
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", deb, err)
		}
		if hdr.Typeflag == tar.TypeReg && strings.HasPrefix(hdr.Name, prefix) {
			data, err := io.ReadAll(tr)
			if err != nil {
				return nil, fmt.Errorf("read %s from %s: %w", hdr.Name, deb, err)
			}
			return data, nil
		}
	}
}

// lockDir takes an exclusive lock on dir/.lock and returns its release.
func lockDir(dir string) (func(), error) {
	path := filepath.Join(dir, ".lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil // closing the file releases the lock
}
