// Package vm boots Debian's kernel under qemu (software emulation, TCG)
// and runs one program, usually a `go test -c` binary, inside it with
// a pure cgroup v2 hierarchy. The host runs cgroups in hybrid mode, so
// this is how cm's cgroup v2 code meets a real v2 kernel from `go test`.
//
// The package owns the kernel cache (build/vm/ by default), the
// initramfs it builds for each run and the qemu process. It never
// installs packages or kernels on the host, never touches the host's
// cgroups and never writes outside the cache and its temporary files.
//
// A run, from the host's side:
//
//	kernel, _ := vm.EnsureKernel(cacheDir)   // apt-get download, once
//	res, err := vm.Run(ctx, vm.Options{Kernel: kernel, Binary: "x.test", Args: []string{"-test.v"}})
//	// res.Output is what x.test printed, res.ExitCode its exit code.
package vm
