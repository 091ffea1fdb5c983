package vm

import (
	"fmt"
	"io"
	"io/fs"
)

// cpioWriter writes the "newc" cpio format, the only one the kernel
// unpacks as an initramfs (Documentation/driver-api/early-userspace/
// buffer-format.rst). Each entry is a 110-byte ASCII header, the
// NUL-terminated name and the data, each padded to 4 bytes; a
// "TRAILER!!!" entry ends the archive.
type cpioWriter struct {
	w   io.Writer
	ino int // every entry gets its own inode number, so none look like hard links
	err error
}

func newCPIOWriter(w io.Writer) *cpioWriter { return &cpioWriter{w: w} }

// Mode bits of the file type, as stat(2) spells them.
const (
	cpioType    = 0o170000 // the bits that hold the type
	cpioDir     = 0o040000
	cpioRegular = 0o100000
	cpioSymlink = 0o120000
)

// Dir adds a directory; name has no leading slash ("usr/bin").
func (c *cpioWriter) Dir(name string, perm fs.FileMode) error {
	return c.entry(name, cpioDir|unixPerm(perm), nil)
}

// File adds a regular file with the given contents.
func (c *cpioWriter) File(name string, perm fs.FileMode, data []byte) error {
	return c.entry(name, cpioRegular|unixPerm(perm), data)
}

// Symlink adds a symbolic link; the link's data is its target.
func (c *cpioWriter) Symlink(name, target string) error {
	return c.entry(name, cpioSymlink|0o777, []byte(target))
}

// Close writes the trailer. It does not close the underlying writer.
func (c *cpioWriter) Close() error {
	return c.entry("TRAILER!!!", 0, nil)
}

// unixPerm turns Go's permission bits into stat(2)'s, which keep the
// setuid, setgid and sticky bits in the low 12 bits where Go does not.
func unixPerm(m fs.FileMode) uint32 {
	bits := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		bits |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		bits |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		bits |= 0o1000
	}
	return bits
}

func (c *cpioWriter) entry(name string, mode uint32, data []byte) error {
	if c.err != nil {
		return c.err
	}
	c.ino++
	nlink := 1
	if mode&cpioType == cpioDir {
		nlink = 2 // "." and the entry in the parent
	}
	// Fields: magic, ino, mode, uid, gid, nlink, mtime, filesize,
	// devmajor, devminor, rdevmajor, rdevminor, namesize (with the
	// NUL), check; all 8-digit hex. Everything is owned by root and
	// dated 0, so the same inputs give the same archive.
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		c.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0, len(name)+1, 0)
	c.write([]byte(hdr))
	c.write([]byte(name + "\x00"))
	c.pad(len(hdr) + len(name) + 1)
	c.write(data)
	c.pad(len(data))
	return c.err
}

func (c *cpioWriter) write(b []byte) {
	if c.err == nil {
		_, c.err = c.w.Write(b)
	}
}

// pad writes the zero bytes that bring n up to a multiple of 4.
func (c *cpioWriter) pad(n int) {
	c.write(make([]byte, (4-n%4)%4))
}
