package cgroupfs

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Loading a device filter into the kernel and attaching it to a cgroup v2
// directory takes three bpf(2) commands, described in the kernel's
// include/uapi/linux/bpf.h (union bpf_attr) and bpf(2):
//
//   - BPF_PROG_LOAD hands the instructions to the verifier and returns a
//     file descriptor for the program;
//   - BPF_PROG_ATTACH ties it to the cgroup's directory. BPF_F_ALLOW_MULTI
//     lets several programs sit on one cgroup, all of which must allow an
//     access: the new one goes on before the old ones come off, so an
//     update never leaves the container without a filter;
//   - BPF_PROG_QUERY, BPF_PROG_GET_FD_BY_ID and BPF_PROG_DETACH find and
//     take off the programs an earlier Apply attached.
//
// The cgroup keeps the program alive once attached; the descriptors are
// closed at once.

// bpfLicense is the license the program declares. The kernel checks it
// only for GPL-only helper functions, which the device filter does not
// call; runc and crun declare their device filters this way too.
const bpfLicense = "Apache"

// bpfProgLoadAttr is the BPF_PROG_LOAD part of union bpf_attr, up to the
// fields cm sets; the kernel takes the rest as zero.
type bpfProgLoadAttr struct {
	progType    uint32
	insnCnt     uint32
	insns       uint64 // pointer
	license     uint64 // pointer to a NUL-terminated string
	logLevel    uint32
	logSize     uint32
	logBuf      uint64 // pointer
	kernVersion uint32
	progFlags   uint32
	progName    [unix.BPF_OBJ_NAME_LEN]byte
}

// bpfAttachAttr is the BPF_PROG_ATTACH and BPF_PROG_DETACH part.
type bpfAttachAttr struct {
	targetFd     uint32
	attachBpfFd  uint32
	attachType   uint32
	attachFlags  uint32
	replaceBpfFd uint32
}

// bpfQueryAttr is the BPF_PROG_QUERY part.
type bpfQueryAttr struct {
	targetFd    uint32
	attachType  uint32
	queryFlags  uint32
	attachFlags uint32
	progIDs     uint64 // pointer to a u32 array
	progCnt     uint32
	_           uint32
}

// bpfGetFdAttr is the BPF_PROG_GET_FD_BY_ID part.
type bpfGetFdAttr struct {
	progID    uint32
	nextID    uint32
	openFlags uint32
}

func bpf(cmd int, attr unsafe.Pointer, size uintptr) (int, error) {
	fd, _, errno := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(attr), size)
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

// loadDeviceFilter hands prog to the kernel. If the verifier refuses it,
// the load is repeated with its log, which goes into the error.
func loadDeviceFilter(prog []bpfInsn) (int, error) {
	license := []byte(bpfLicense + "\x00")
	attr := bpfProgLoadAttr{
		progType: unix.BPF_PROG_TYPE_CGROUP_DEVICE,
		insnCnt:  uint32(len(prog)),
		insns:    uint64(uintptr(unsafe.Pointer(&prog[0]))),
		license:  uint64(uintptr(unsafe.Pointer(&license[0]))),
	}
	copy(attr.progName[:], "cm_devices")
	fd, err := bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	// The verifier gives up with EAGAIN when a signal is pending for the
	// thread (a SIGCHLD, say): try again, as libbpf does.
	for try := 0; try < 10 && errors.Is(err, unix.EAGAIN); try++ {
		fd, err = bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	}
	if err != nil && (errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EACCES)) {
		log := make([]byte, 64<<10)
		attr.logLevel, attr.logSize = 1, uint32(len(log))
		attr.logBuf = uint64(uintptr(unsafe.Pointer(&log[0])))
		_, err2 := bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
		runtime.KeepAlive(log)
		if err2 != nil {
			err = fmt.Errorf("%w; verifier: %s", err, cString(log))
		}
	}
	runtime.KeepAlive(prog)
	runtime.KeepAlive(license)
	if err != nil {
		return -1, fmt.Errorf("load eBPF device filter: %w", err)
	}
	return fd, nil
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// attachedDeviceFilters lists the ids of the device programs on a cgroup.
func attachedDeviceFilters(cgroupFd int) ([]uint32, error) {
	ids := make([]uint32, 64)
	for {
		attr := bpfQueryAttr{
			targetFd:   uint32(cgroupFd),
			attachType: unix.BPF_CGROUP_DEVICE,
			progIDs:    uint64(uintptr(unsafe.Pointer(&ids[0]))),
			progCnt:    uint32(len(ids)),
		}
		_, err := bpf(unix.BPF_PROG_QUERY, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
		runtime.KeepAlive(ids)
		if errors.Is(err, unix.ENOSPC) { // more than fit: the kernel says how many
			ids = make([]uint32, attr.progCnt)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("query eBPF device filters: %w", err)
		}
		return ids[:attr.progCnt], nil
	}
}

func attachDeviceFilter(cgroupFd, progFd int) error {
	attr := bpfAttachAttr{
		targetFd:    uint32(cgroupFd),
		attachBpfFd: uint32(progFd),
		attachType:  unix.BPF_CGROUP_DEVICE,
		attachFlags: unix.BPF_F_ALLOW_MULTI,
	}
	if _, err := bpf(unix.BPF_PROG_ATTACH, unsafe.Pointer(&attr), unsafe.Sizeof(attr)); err != nil {
		return fmt.Errorf("attach eBPF device filter: %w", err)
	}
	return nil
}

// detachDeviceFilter takes the program with the given id off the cgroup.
func detachDeviceFilter(cgroupFd int, id uint32) error {
	get := bpfGetFdAttr{progID: id}
	progFd, err := bpf(unix.BPF_PROG_GET_FD_BY_ID, unsafe.Pointer(&get), unsafe.Sizeof(get))
	if err != nil {
		return fmt.Errorf("open eBPF device filter %d: %w", id, err)
	}
	defer unix.Close(progFd)
	attr := bpfAttachAttr{targetFd: uint32(cgroupFd), attachBpfFd: uint32(progFd), attachType: unix.BPF_CGROUP_DEVICE}
	if _, err := bpf(unix.BPF_PROG_DETACH, unsafe.Pointer(&attr), unsafe.Sizeof(attr)); err != nil {
		return fmt.Errorf("detach eBPF device filter %d: %w", id, err)
	}
	return nil
}

// applyV2Devices replaces the device filter of the cgroup v2 directory dir
// by one that enforces rules.
func applyV2Devices(dir string, rules []specs.LinuxDeviceCgroup) error {
	s, err := effectiveDeviceRules(rules)
	if err != nil {
		return err
	}
	cgroupFd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer unix.Close(cgroupFd)
	old, err := attachedDeviceFilters(cgroupFd)
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	progFd, err := loadDeviceFilter(deviceFilter(s))
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	defer unix.Close(progFd)
	if err := attachDeviceFilter(cgroupFd, progFd); err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	for _, id := range old {
		if err := detachDeviceFilter(cgroupFd, id); err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
	}
	return nil
}
