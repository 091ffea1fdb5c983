package execstream

import (
	"encoding/binary"
	"fmt"
	"io"
	"sync"
)

// Kind says what a frame carries (see the package doc).
type Kind byte

const (
	Stdin Kind = iota
	Stdout
	Stderr
	Resize
	CloseStdin
	Exit
	Error
)

// MaxPayload bounds one frame, so a broken peer cannot make us allocate
// without limit.
const MaxPayload = 1 << 20

// Upgrade is the protocol name in the Upgrade header.
const Upgrade = "cm-exec"

// Writer sends frames; it is safe for concurrent use, so stdout and
// stderr copiers can share one connection.
type Writer struct {
	mu sync.Mutex
	w  io.Writer
}

// NewWriter sends frames on w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write sends one frame.
func (fw *Writer) Write(k Kind, payload []byte) error {
	if len(payload) > MaxPayload {
		return fmt.Errorf("frame of %d bytes: more than %d", len(payload), MaxPayload)
	}
	buf := make([]byte, 5+len(payload))
	buf[0] = byte(k)
	binary.BigEndian.PutUint32(buf[1:5], uint32(len(payload)))
	copy(buf[5:], payload)
	fw.mu.Lock()
	defer fw.mu.Unlock()
	_, err := fw.w.Write(buf)
	return err
}

// WriteExit sends the Exit frame.
func (fw *Writer) WriteExit(code int) error {
	return fw.Write(Exit, binary.BigEndian.AppendUint32(nil, uint32(int32(code))))
}

// WriteResize sends a Resize frame.
func (fw *Writer) WriteResize(rows, cols uint16) error {
	p := binary.BigEndian.AppendUint16(nil, rows)
	return fw.Write(Resize, binary.BigEndian.AppendUint16(p, cols))
}

// Stream is an io.Writer that sends what it is given as frames of one kind.
func (fw *Writer) Stream(k Kind) io.Writer { return kindWriter{fw, k} }

type kindWriter struct {
	fw *Writer
	k  Kind
}

func (kw kindWriter) Write(p []byte) (int, error) {
	for rest := p; len(rest) > 0; {
		n := min(len(rest), MaxPayload)
		if err := kw.fw.Write(kw.k, rest[:n]); err != nil {
			return len(p) - len(rest), err
		}
		rest = rest[n:]
	}
	return len(p), nil
}

// Read reads one frame.
func Read(r io.Reader) (Kind, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > MaxPayload {
		return 0, nil, fmt.Errorf("frame of %d bytes: more than %d", n, MaxPayload)
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return 0, nil, fmt.Errorf("frame cut short: %w", io.ErrUnexpectedEOF)
	}
	return Kind(hdr[0]), p, nil
}

// ExitCode reads an Exit frame's payload.
func ExitCode(p []byte) (int, error) {
	if len(p) != 4 {
		return 0, fmt.Errorf("exit frame of %d bytes: want 4", len(p))
	}
	return int(int32(binary.BigEndian.Uint32(p))), nil
}

// Size reads a Resize frame's payload.
func Size(p []byte) (rows, cols uint16, err error) {
	if len(p) != 4 {
		return 0, 0, fmt.Errorf("resize frame of %d bytes: want 4", len(p))
	}
	return binary.BigEndian.Uint16(p), binary.BigEndian.Uint16(p[2:]), nil
}
