// Package term puts a terminal in raw mode for a proxy that passes keys to
// a container's terminal: cmrun's --tty proxy and cmctl exec -t. It owns
// the termios flags only, and never reads or writes the terminal's data.
package term

import "golang.org/x/sys/unix"

// MakeRaw passes keys typed on fd unprocessed (^C becomes SIGINT in the
// container, not here) and returns how to undo it. The flags are those of
// cfmakeraw(3).
func MakeRaw(fd int) (restore func(), err error) {
	saved, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, err
	}
	raw := *saved
	raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	raw.Oflag &^= unix.OPOST
	raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	raw.Cflag &^= unix.CSIZE | unix.PARENB
	raw.Cflag |= unix.CS8
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &raw); err != nil {
		return nil, err
	}
	return func() { unix.IoctlSetTermios(fd, unix.TCSETS, saved) }, nil
}
