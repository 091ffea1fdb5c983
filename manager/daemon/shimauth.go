package daemon

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"cm/manager/store"
	"cm/shim/proto"
)

// This file binds what arrives on the shim socket to the shim the daemon
// launched. The socket's permissions and SO_PEERCRED only say "root";
// every root process could otherwise speak for any container.
//
// Each container's shim gets a token at launch, on a pipe (never in its
// command line or environment), and sends it with every message as
// "Authorization: Bearer TOKEN". The token is HMAC-SHA256(key, id): the
// key is 32 random bytes made once per state directory (shim.key, 0600),
// so a restarted daemon recomputes every token without storing one per
// container, a token for container A says nothing about B's, and there
// is no moment where a launched shim's token is not yet on disk. Once a
// shim has registered, its pid (from SO_PEERCRED) is the container's shim
// pid, and messages from any other process are refused even with the
// token.

// ErrForbidden: a shim message that does not come from the container's
// shim (403).
var ErrForbidden = errors.New("shim socket: forbidden")

// shimKeyFile holds the key of the tokens, in the state directory.
const shimKeyFile = "shim.key"

// loadShimKey reads the state directory's token key, making it the first time.
func loadShimKey(stateDir string) ([]byte, error) {
	path := filepath.Join(stateDir, shimKeyFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("make shim token key: %w", err)
		}
		if err := store.WriteFileAtomic(path, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("shim token key: %w", err)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("shim token key: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("shim token key %s: want 64 hexadecimal digits (remove it to make a new one; running shims then lose their manager)", path)
	}
	return key, nil
}

// ShimToken is the secret the shim of container id must send. Launchers
// get it in ShimConfig.Token; tests use it to play a container's shim.
func (d *Daemon) ShimToken(id string) string {
	mac := hmac.New(sha256.New, d.shimKey)
	mac.Write([]byte("cm shim token\x00" + id))
	return hex.EncodeToString(mac.Sum(nil))
}

// authShim checks that a message about container id comes from its shim
// (or answers that the container is unknown):
// it carries the container's token and, once the shim's pid is known,
// comes from that process. claimedPid is the pid a registration names
// (0 for other messages): it must be the caller's own. A refusal is
// logged, as it means someone tried to speak for a container.
func (d *Daemon) authShim(r *http.Request, id string, claimedPid int) error {
	if id == "" {
		return badField("id", "required")
	}
	// A container the daemon does not know has no shim to impersonate:
	// "unknown container" makes whoever asks abort, and must reach a shim
	// whose token this daemon cannot check (one of a manager that ran on
	// another state directory).
	e := d.table.GetID(id)
	if e == nil || e.Snap().Deleting {
		return ErrUnknownContainer
	}
	cred, _ := r.Context().Value(peerKey{}).(*unix.Ucred)
	var peerPid int
	if cred != nil {
		peerPid = int(cred.Pid)
	}
	var why string
	token, ok := proto.Token(r.Header)
	switch {
	case !ok || token == "":
		why = "no shim token (want Authorization: Bearer TOKEN)"
	case !hmac.Equal([]byte(token), []byte(d.ShimToken(id))):
		why = "wrong shim token"
	case cred == nil:
		why = "no peer credentials"
	case claimedPid > 0 && claimedPid != peerPid:
		why = fmt.Sprintf("pid %d is not the caller's (%d)", claimedPid, peerPid)
	}
	if known := e.Snap().ShimPid; why == "" && known != 0 && known != peerPid {
		why = fmt.Sprintf("caller pid %d is not its shim (pid %d)", peerPid, known)
	}
	if why == "" {
		return nil
	}
	d.log.Warn("shim message refused", "path", r.URL.Path, "id", id, "peer-pid", peerPid, "reason", why)
	return fmt.Errorf("%w: not the shim of container %s: %s", ErrForbidden, id, why)
}
