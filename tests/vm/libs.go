package vm

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// sharedLibraries lists the host files a dynamically linked program
// needs at run time: its ELF interpreter (the dynamic loader) and every
// library ldd resolves, each as the absolute path the loader will open.
// A static program needs none, and neither does a script: its
// interpreter (busybox sh, say) is already in the guest.
func sharedLibraries(binary string) ([]string, error) {
	f, err := elf.Open(binary)
	var notELF *elf.FormatError
	if errors.As(err, &notELF) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read ELF %s: %w", binary, err)
	}
	defer f.Close()
	interp := ""
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b := make([]byte, p.Filesz)
			if _, err := p.ReadAt(b, 0); err != nil {
				return nil, fmt.Errorf("read interpreter of %s: %w", binary, err)
			}
			interp = strings.TrimRight(string(b), "\x00")
		}
	}
	if interp == "" {
		return nil, nil // static: ldd would only say "not a dynamic executable"
	}

	ldd, err := lookTool("ldd")
	if err != nil {
		return nil, err
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(ldd, binary)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("ldd %s: %w: %s", binary, err, bytes.TrimSpace(stderr.Bytes()))
	}
	libs, err := parseLdd(stdout.String())
	if err != nil {
		return nil, fmt.Errorf("ldd %s: %w", binary, err)
	}
	for _, l := range libs {
		if l == interp {
			return libs, nil
		}
	}
	return append(libs, interp), nil
}

// errLibraryNotFound: ldd could not resolve a library on the host, so
// the program could not start in the guest either.
var errLibraryNotFound = errors.New("shared library not found")

// parseLdd reads ldd's three kinds of lines:
//
//	linux-vdso.so.1 (0x00007ffd...)                       the kernel's, no file
//	libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)  a resolved library
//	/lib64/ld-linux-x86-64.so.2 (0x...)                   the loader, by path
//
// and "libfoo.so.1 => not found", an error.
func parseLdd(out string) ([]string, error) {
	var libs []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if name, target, ok := strings.Cut(line, " => "); ok {
			if strings.HasPrefix(target, "not found") {
				return nil, fmt.Errorf("%s: %w", name, errLibraryNotFound)
			}
			line = target
		}
		path, _, _ := strings.Cut(line, " (")
		if strings.HasPrefix(path, "/") {
			libs = append(libs, path)
		}
	}
	return libs, nil
}
