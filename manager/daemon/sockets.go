package daemon

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"cm/manager/api"
)

// socket is a listening Unix socket the daemon created.
type socket struct {
	path   string
	l      *net.UnixListener
	made   os.FileInfo  // to remove only our own socket file
	accept net.Listener // what the server takes connections from: l, or l behind a cap
}

// maxSocketPath is what fits in sockaddr_un.sun_path with its NUL.
const maxSocketPath = 107

// listenSocket creates a Unix socket at path that is never reachable with
// wider permissions than mode: it is made in a private (0700) directory,
// chmod'ed (and given to group gid, if gid >= 0), then renamed into place.
func listenSocket(path string, mode os.FileMode, gid int) (*socket, error) {
	path, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("socket %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("socket directory: %w", err)
	}
	if listenerAlive(path) {
		return nil, fmt.Errorf("socket %s: another daemon is listening on it", path)
	}
	tmp, err := os.MkdirTemp(dir, ".s")
	if err != nil {
		return nil, fmt.Errorf("socket %s: %w", path, err)
	}
	defer os.RemoveAll(tmp)
	tmpPath := filepath.Join(tmp, "s")
	if len(tmpPath) > maxSocketPath || len(path) > maxSocketPath {
		return nil, fmt.Errorf("socket %s: path too long for a Unix socket (at most about %d bytes)", path, maxSocketPath-len(tmpPath)+len(path))
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmpPath, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	l.SetUnlinkOnClose(false) // the file moves; close() removes it where it is
	fail := func(err error) (*socket, error) {
		l.Close()
		return nil, fmt.Errorf("socket %s: %w", path, err)
	}
	if err := os.Chmod(tmpPath, mode); err != nil {
		return fail(err)
	}
	if gid >= 0 {
		if err := os.Chown(tmpPath, -1, gid); err != nil {
			return fail(err)
		}
	}
	if err := os.Rename(tmpPath, path); err != nil {
		return fail(err)
	}
	made, err := os.Lstat(path)
	if err != nil {
		return fail(err)
	}
	return &socket{path: path, l: l, made: made, accept: l}, nil
}

// listenerAlive reports whether a live process listens on path. A socket
// that accepts connections although the process that listened on it is
// dead is held only by that process's descendants (a child it forked and
// had not exec'd yet when it was killed shares its descriptors): nobody
// will ever answer there, so it must not keep a new daemon out. The
// listener's creator is what SO_PEERCRED names on a connection to it.
func listenerAlive(path string) bool {
	c, err := net.Dial("unix", path)
	if err != nil {
		return false
	}
	defer c.Close()
	raw, err := c.(*net.UnixConn).SyscallConn()
	if err != nil {
		return true
	}
	var cred *unix.Ucred
	if cerr := raw.Control(func(fd uintptr) {
		cred, err = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); cerr != nil || err != nil || cred.Pid <= 0 {
		return true
	}
	return processAlive(int(cred.Pid))
}

// processAlive: pid exists and is not a zombie (a dead process whose
// parent has not reaped it, which may take forever under some inits).
func processAlive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses and
	// may itself contain ") ".
	i := strings.LastIndexByte(string(data), ')')
	return i < 0 || i+2 >= len(data) || data[i+2] != 'Z'
}

// close stops listening and removes the socket file, unless another
// daemon has replaced it meanwhile.
func (s *socket) close() {
	s.l.Close()
	if cur, err := os.Lstat(s.path); err == nil && os.SameFile(cur, s.made) {
		os.Remove(s.path)
	}
}

// lookupGroup accepts a group name or number.
func lookupGroup(name string) (int, error) {
	if gid, err := strconv.Atoi(name); err == nil {
		return gid, nil
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		return 0, fmt.Errorf("socket group: %w", err)
	}
	return strconv.Atoi(g.Gid)
}

type peerKey struct{}

// peerContext remembers who is on the other end of a connection
// (SO_PEERCRED: the credentials the kernel recorded at connect).
func peerContext(ctx context.Context, c net.Conn) context.Context {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return ctx
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return ctx
	}
	var cred *unix.Ucred
	raw.Control(func(fd uintptr) {
		cred, err = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	})
	if err != nil {
		return ctx
	}
	return context.WithValue(ctx, peerKey{}, cred)
}

// allowedPeer: shims run as root; a daemon run by another user trusts its own uid.
func allowedPeer(uid uint32) bool { return uid == 0 || int(uid) == os.Getuid() }

// checkPeer refuses (403) callers whose credentials are unknown or not allowed.
func checkPeer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cred, _ := r.Context().Value(peerKey{}).(*unix.Ucred)
		switch {
		case cred == nil:
			writeJSON(w, http.StatusForbidden, api.ErrorBody{Error: "shim socket: cannot tell who is calling (no peer credentials)"})
		case !allowedPeer(cred.Uid):
			writeJSON(w, http.StatusForbidden, api.ErrorBody{Error: fmt.Sprintf(
				"shim socket: uid %d may not call it (only root or uid %d)", cred.Uid, os.Getuid())})
		default:
			next.ServeHTTP(w, r)
		}
	})
}
