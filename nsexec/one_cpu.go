package nsexec

// // The CPU the constructor keeps this process's threads on, or -1 (one_cpu.c).
// extern int nsexec_pinned_cpu;
import "C"

import "golang.org/x/sys/unix"

// PinnedCPU is the CPU this process's threads are kept on, or -1 when
// the scheduler places them. Only cmrun pins itself, and only when it was
// started with every online CPU (one_cpu.c says why).
func PinnedCPU() int { return int(C.nsexec_pinned_cpu) }

// threadToAllCPUs lets the calling thread, which must be locked, run on
// every CPU again, and returns what pins it back. "Every CPU" rather than
// the list cmrun started with: the kernel keeps the mask as the thread's
// own choice and intersects later cpuset changes with it, and a full mask
// lets them through whole, as if no one had chosen (one_cpu.c).
func threadToAllCPUs() (undo func()) {
	cpu := PinnedCPU()
	if cpu < 0 {
		return func() {}
	}
	var all unix.CPUSet
	all.Fill()
	if err := unix.SchedSetaffinity(0, &all); err != nil {
		return func() {} // then the child stays on our CPU: slower, nothing worse
	}
	return func() {
		var one unix.CPUSet
		one.Set(cpu)
		unix.SchedSetaffinity(0, &one)
	}
}
