package nsexec

// #cgo CFLAGS: -Wall -Wextra -std=gnu11
// #include "protocol.h"
import "C"

import (
	"encoding/binary"
	"fmt"
	"io"
)

// InitPipeEnv names the environment variable that carries the init socket's fd.
const InitPipeEnv = C.INIT_PIPE_ENV

// MsgType identifies one message on the init socket.
type MsgType uint32

// The preamble's message types, mirrored from protocol.h.
const (
	MsgBootstrap      MsgType = C.MSG_BOOTSTRAP
	MsgUsermapRequest MsgType = C.MSG_USERMAP_REQUEST
	MsgUsermapAck     MsgType = C.MSG_USERMAP_ACK
	MsgPid            MsgType = C.MSG_PID
	MsgError          MsgType = C.MSG_ERROR
	MsgCgroupReady    MsgType = C.MSG_CGROUP_READY
)

// FirstInitMsg is the first number free for the messages the Go half of
// the init exchanges with its parent after the preamble is done; the
// preamble never reads those, and package runtime defines them.
const FirstInitMsg MsgType = C.MSG_FIRST_INIT

// MaxMessage bounds what the Go side sends and accepts, so a corrupt
// header cannot make us allocate gigabytes. The init config carries
// process.args and process.env, of which execve takes up to 6 MiB, and
// JSON may escape a byte as six ("\u003c"). The C preamble reads only
// the small messages (bootstrap, id maps) and keeps MAX_BOOTSTRAP.
const MaxMessage = 64 << 20

// MaxNamespacePaths is how many namespaces the preamble can join.
const MaxNamespacePaths = C.MAX_NS_PATHS

const (
	attrCloneFlags    = C.ATTR_CLONE_FLAGS
	attrNsPath        = C.ATTR_NS_PATH
	attrTimensOffsets = C.ATTR_TIMENS_OFFSETS
	attrCgroupTasks   = C.ATTR_CGROUP_TASKS
	attrCgroupDir     = C.ATTR_CGROUP_DIR
	attrCgroupnsPath  = C.ATTR_CGROUPNS_PATH
	attrCgroupPending = C.ATTR_CGROUP_PENDING
)

// MaxCgroupTasks is how many cgroup v1 hierarchies the preamble can join.
const MaxCgroupTasks = C.MAX_CGROUP_TASKS

// CgroupJoin says how the init got into its cgroup v2 group.
type CgroupJoin int32

// The ways, mirrored from protocol.h.
const (
	JoinedV1Only     CgroupJoin = C.JOINED_V1_ONLY
	JoinedV2ByClone3 CgroupJoin = C.JOINED_V2_BY_CLONE3
	JoinedV2ByProcs  CgroupJoin = C.JOINED_V2_BY_PROCS
)

func (j CgroupJoin) String() string {
	switch j {
	case JoinedV1Only:
		return "v1 tasks files"
	case JoinedV2ByClone3:
		return "v1 tasks files, cgroup v2 by clone3"
	case JoinedV2ByProcs:
		return "v1 tasks files, cgroup v2 by cgroup.procs (clone3 refused)"
	}
	return fmt.Sprintf("unknown join %d", int32(j))
}

// Bootstrap is what stage 0 needs to enter the container's namespaces.
type Bootstrap struct {
	// CloneFlags are the CLONE_NEW* namespaces to create.
	CloneFlags uint32
	// NamespacePaths are existing namespaces to join, in the order to join
	// them: a user namespace first, a mount namespace last.
	NamespacePaths []string
	// TimensOffsets is written to /proc/self/timens_offsets after
	// unshare(CLONE_NEWTIME), e.g. "monotonic 10 0\n".
	TimensOffsets string
	// CgroupNamespacePath is a cgroup namespace to join. The init joins
	// it once it is inside its cgroup, after every other namespace.
	CgroupNamespacePath string
	// CgroupTasks are the "tasks" files of the group in each cgroup v1
	// hierarchy; stage 0 writes "0" to each, which moves it alone.
	CgroupTasks []string
	// CgroupDir is the group's cgroup v2 directory, which the init is
	// cloned into; empty on a host without cgroup v2.
	CgroupDir string
	// CgroupPending says the parent is still making the cgroup: stage 0
	// creates its new namespaces meanwhile and moves in once MsgCgroupReady
	// comes. Only for a container without a user namespace (see nsexec.c).
	CgroupPending bool
}

// Join adds a namespace to join: a cgroup namespace has its own place,
// the others are joined in the order given.
func (b *Bootstrap) Join(cgroup bool, path string) {
	if cgroup {
		b.CgroupNamespacePath = path
	} else {
		b.NamespacePaths = append(b.NamespacePaths, path)
	}
}

// Encode turns the bootstrap into the attribute list wire.c parses.
func (b *Bootstrap) Encode() []byte {
	var out []byte
	put := func(typ uint32, val []byte) {
		out = binary.NativeEndian.AppendUint32(out, typ)
		out = binary.NativeEndian.AppendUint32(out, uint32(len(val)))
		out = append(out, val...)
	}
	put(attrCloneFlags, binary.NativeEndian.AppendUint32(nil, b.CloneFlags))
	for _, p := range b.NamespacePaths {
		put(attrNsPath, append([]byte(p), 0))
	}
	if b.TimensOffsets != "" {
		put(attrTimensOffsets, append([]byte(b.TimensOffsets), 0))
	}
	for _, p := range b.CgroupTasks {
		put(attrCgroupTasks, append([]byte(p), 0))
	}
	if b.CgroupDir != "" {
		put(attrCgroupDir, append([]byte(b.CgroupDir), 0))
	}
	if b.CgroupNamespacePath != "" {
		put(attrCgroupnsPath, append([]byte(b.CgroupNamespacePath), 0))
	}
	if b.CgroupPending {
		put(attrCgroupPending, nil)
	}
	return out
}

// WriteMsg sends one framed message.
func WriteMsg(w io.Writer, typ MsgType, payload []byte) error {
	if len(payload) > MaxMessage {
		return fmt.Errorf("send message %d: %d bytes is more than the %d MiB limit", typ, len(payload), MaxMessage>>20)
	}
	buf := make([]byte, 8, 8+len(payload))
	binary.NativeEndian.PutUint32(buf[0:], uint32(typ))
	binary.NativeEndian.PutUint32(buf[4:], uint32(len(payload)))
	if _, err := w.Write(append(buf, payload...)); err != nil {
		return fmt.Errorf("send message %d: %w", typ, err)
	}
	return nil
}

// ReadMsg receives one framed message. io.EOF means the other side closed
// the socket (for the parent: every stage of the init has exited or
// closed its end).
func ReadMsg(r io.Reader) (MsgType, []byte, error) {
	var hdr [8]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if err == io.ErrUnexpectedEOF {
			err = io.EOF
		}
		return 0, nil, err
	}
	typ := MsgType(binary.NativeEndian.Uint32(hdr[0:]))
	n := binary.NativeEndian.Uint32(hdr[4:])
	if n > MaxMessage {
		return 0, nil, fmt.Errorf("message %d of %d bytes is too large", typ, n)
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, fmt.Errorf("read message %d: %w", typ, err)
	}
	return typ, payload, nil
}

// DecodePid reads the payload of a MsgPid message: the init's pid and
// how it joined its cgroup.
func DecodePid(payload []byte) (int, CgroupJoin, error) {
	if len(payload) != 8 {
		return 0, 0, fmt.Errorf("pid message has %d bytes, want 8", len(payload))
	}
	pid := int(int32(binary.NativeEndian.Uint32(payload)))
	return pid, CgroupJoin(int32(binary.NativeEndian.Uint32(payload[4:]))), nil
}
