package runtime

import (
	"encoding/json"
	"fmt"
	"os"

	"cm/nsexec"
	"cm/runtime/lazyjson"
	"cm/runtime/spec"
)

// The init protocol: once the nsexec preamble has done its own exchange
// on the init socket (nsexec/protocol.h: bootstrap, id maps, the init's
// pid), cmrun and the Go half of its init go on talking over the same
// socket, in the same framing, with these messages:
//
//	cmrun -> init  msgConfig          as soon as stage 0 reported the init's pid: the initConfig, as JSON
//	cmrun -> init  msgSeccomp         right after, when initConfig.HasSeccomp: the compiled filter
//	init -> cmrun  msgHooks           standard init, before pivot_root: run prestart and createRuntime now
//	cmrun -> init  msgHooksDone       those hooks ran, go on
//	init -> cmrun  msgSeccompFd       a filter with a listener was loaded: the listener's fd number (s32)
//	cmrun -> init  msgSeccompFdDone   cmrun has its copy of the listener, the init may close its own
//	init -> cmrun  msgReady           the readyMsg, last: the init closes the socket after it
//	init -> cmrun  nsexec.MsgError    at any point instead: the error's text, then the init exits
//
// The init's descriptors are laid out by the parent: 0-2 stdio, from
// firstExtraFd the preserved fds (--preserve-fds), then the init socket,
// the exec fifo and the console socket when there are any (initConfig
// names them), and last the binary the init runs from.
const (
	msgConfig nsexec.MsgType = nsexec.FirstInitMsg + iota
	msgReady
	msgHooks
	msgHooksDone
	msgSeccomp
	msgSeccompFd
	msgSeccompFdDone
)

// initType names the two inits: one that builds a container, one that
// joins a container that is there already.
type initType string

const (
	initStandard initType = "standard" // create: rootfs, hooks, wait for start (init_standard.go)
	initSetns    initType = "setns"    // exec: the preamble joined the container (init_setns.go)
)

// firstExtraFd is where the preserved fds start in the init, right after stdio.
const firstExtraFd = 3

// initConfig is everything the Go half of the init needs, sent as JSON
// after the namespaces exist.
type initConfig struct {
	ID        string    `json:"id"`
	Pid       int       `json:"pid"` // the init's pid on the host, for hook state
	Bundle    *Bundle   `json:"-"`   // the init rebuilds it from the three fields below
	BundleDir string    `json:"bundleDir"`
	Rootfs    string    `json:"rootfs"`
	Spec      *initSpec `json:"spec"`
	NoPivot   bool      `json:"noPivot"`
	Trace     bool      `json:"trace"`
	FifoFd    int       `json:"fifoFd"`    // the exec fifo (O_PATH), 0 for exec
	ConsoleFd int       `json:"consoleFd"` // the console socket, 0 without a terminal
	Type      initType  `json:"type"`      // which init runs
	Hooks     bool      `json:"hooks"`     // ask the parent to run prestart/createRuntime hooks
	ExtraFds  int       `json:"extraFds"`  // --preserve-fds
	UserNS    bool      `json:"userNS"`    // a new user namespace: devices are bind-mounted
	// CgroupDirs maps each cgroup mount point to the container's cgroup
	// directory in it, for the cgroup mount.
	CgroupDirs map[string]string `json:"cgroupDirs"`
	// Seccomp is the compiled linux.seccomp filter, if any. It travels
	// in a message of its own (msgSeccomp): as JSON it would be base64
	// text several times the size of the rest.
	Seccomp    []byte `json:"-"`
	HasSeccomp bool   `json:"hasSeccomp"`
}

// readyMsg is what the init reports when it is about to wait for start
// (standard init) or to exec the program (setns init).
type readyMsg struct {
	Trace    []TraceStep `json:"trace,omitempty"`
	Warnings []string    `json:"warnings,omitempty"`
}

// sendConfig is the parent's msgConfig, and msgSeccomp after it.
func sendConfig(sock *os.File, cfg initConfig) error {
	cfg.BundleDir, cfg.Rootfs, cfg.Spec = cfg.Bundle.Dir, cfg.Bundle.Rootfs, initSpecOf(cfg.Bundle.Spec)
	cfg.HasSeccomp = cfg.Seccomp != nil
	data, err := lazyjson.Marshal(&cfg)
	if err != nil {
		return fmt.Errorf("encode init config: %w", err)
	}
	if len(data) > nsexec.MaxMessage {
		return fmt.Errorf("%s: the init config made of it is %d bytes, more than the %d MiB the init reads", spec.ConfigFile, len(data), nsexec.MaxMessage>>20)
	}
	if err := nsexec.WriteMsg(sock, msgConfig, data); err != nil {
		return err
	}
	if cfg.HasSeccomp {
		return nsexec.WriteMsg(sock, msgSeccomp, cfg.Seccomp)
	}
	return nil
}

// readConfig is the init's side of sendConfig.
func readConfig(sock *os.File) (*initConfig, error) {
	typ, payload, err := nsexec.ReadMsg(sock)
	if err != nil {
		return nil, fmt.Errorf("read init config: %w", err)
	}
	if typ != msgConfig {
		return nil, fmt.Errorf("protocol error: expected config, got message %d", typ)
	}
	var cfg initConfig
	if err := lazyjson.Unmarshal(payload, &cfg); err != nil {
		return nil, fmt.Errorf("decode init config: %w", err)
	}
	cfg.Bundle = &Bundle{Dir: cfg.BundleDir, Rootfs: cfg.Rootfs, Spec: cfg.Spec.spec()}
	if cfg.HasSeccomp {
		if typ, cfg.Seccomp, err = nsexec.ReadMsg(sock); err != nil {
			return nil, fmt.Errorf("read seccomp filter: %w", err)
		}
		if typ != msgSeccomp {
			return nil, fmt.Errorf("protocol error: expected the seccomp filter, got message %d", typ)
		}
	}
	return &cfg, nil
}

// sendReady is the init's last message on the socket.
func sendReady(sock *os.File, t *Trace, warnings []string) error {
	ready, _ := json.Marshal(readyMsg{Trace: t.Steps, Warnings: warnings})
	return nsexec.WriteMsg(sock, msgReady, ready)
}
