package runtime

import (
	"cm/runtime/term"

	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// ttyProxy connects a foreground "cmrun run" to a container that asked for
// a terminal: it receives the pty master from the init and copies between
// it and cmrun's own stdin and stdout.
type ttyProxy struct {
	local, remote *os.File // the two ends of the console socketpair
	master        *os.File
	restore       func() // gives the user's terminal its settings back, at the end
	output        chan struct{}
}

func newTTYProxy() (*ttyProxy, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("console socketpair: %w", err)
	}
	return &ttyProxy{local: os.NewFile(uintptr(fds[0]), "console-local"), remote: os.NewFile(uintptr(fds[1]), "console-remote")}, nil
}

// attach receives the master and starts copying.
func (p *ttyProxy) attach() error {
	p.remote.Close()
	buf := make([]byte, 64)
	oob := make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := unix.Recvmsg(int(p.local.Fd()), buf, oob, 0)
	if err != nil {
		return fmt.Errorf("receive pty master: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return fmt.Errorf("receive pty master: no descriptor in message")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return fmt.Errorf("receive pty master: %v", err)
	}
	p.master = os.NewFile(uintptr(fds[0]), "pty-master")
	// Raw mode: keys go to the container's terminal unprocessed (^C
	// becomes SIGINT there, not here).
	if restore, err := term.MakeRaw(0); err == nil {
		p.restore = restore
		p.resize()
	}
	p.output = make(chan struct{})
	go copyAndClose(p.master, os.Stdin, nil)
	go copyAndClose(os.Stdout, p.master, p.output)
	return nil
}

// resize copies our terminal's size to the container's.
func (p *ttyProxy) resize() {
	if ws, err := unix.IoctlGetWinsize(0, unix.TIOCGWINSZ); err == nil && p.master != nil {
		unix.IoctlSetWinsize(int(p.master.Fd()), unix.TIOCSWINSZ, ws)
	}
}

// drain waits until everything the container wrote has been copied out:
// the master reads EIO once the last slave holder is gone.
func (p *ttyProxy) drain() {
	if p.output != nil {
		<-p.output
	}
}

func (p *ttyProxy) Close() {
	if p.restore != nil {
		p.restore()
	}
	if p.master != nil {
		p.master.Close()
	}
	p.local.Close()
	p.remote.Close()
}
