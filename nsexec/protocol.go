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

// The message types, mirrored from protocol.h.
const (
	MsgBootstrap      MsgType = C.MSG_BOOTSTRAP
	MsgUsermapRequest MsgType = C.MSG_USERMAP_REQUEST
	MsgUsermapAck     MsgType = C.MSG_USERMAP_ACK
	MsgPid            MsgType = C.MSG_PID
	MsgError          MsgType = C.MSG_ERROR
	MsgConfig         MsgType = C.MSG_CONFIG
	MsgReady          MsgType = C.MSG_READY
	MsgHooks          MsgType = C.MSG_HOOKS
	MsgHooksDone      MsgType = C.MSG_HOOKS_DONE
)

// maxMessage bounds what either side accepts, so a corrupt header cannot make us allocate gigabytes.
const maxMessage = C.MAX_BOOTSTRAP

// MaxNamespacePaths is how many namespaces the preamble can join.
const MaxNamespacePaths = C.MAX_NS_PATHS

const (
	attrCloneFlags    = C.ATTR_CLONE_FLAGS
	attrNsPath        = C.ATTR_NS_PATH
	attrTimensOffsets = C.ATTR_TIMENS_OFFSETS
)

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
}

// Encode turns the bootstrap into the attribute list nsexec.c parses.
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
	return out
}

// WriteMsg sends one framed message.
func WriteMsg(w io.Writer, typ MsgType, payload []byte) error {
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
	if n > maxMessage {
		return 0, nil, fmt.Errorf("message %d of %d bytes is too large", typ, n)
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, fmt.Errorf("read message %d: %w", typ, err)
	}
	return typ, payload, nil
}

// DecodePid reads the payload of a MsgPid message.
func DecodePid(payload []byte) (int, error) {
	if len(payload) != 4 {
		return 0, fmt.Errorf("pid message has %d bytes, want 4", len(payload))
	}
	return int(int32(binary.NativeEndian.Uint32(payload))), nil
}
