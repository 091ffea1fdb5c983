// Command fakeshim is package shimtest behind cmshim's command line, so
// tests can give a real cmanagerd process a shim binary:
//
//	fakeshim [--ready-fd N] [--token-fd N] --id ID --bundle DIR --state-dir DIR --manager SOCKET [--runtime-root DIR] [--log-max N] [--init]
//
// Like cmshim, with --ready-fd it is the daemon and writes "ok" or its
// error to that descriptor; without, it re-executes itself detached (its
// own session), waits until that daemon's control socket listens, prints
// the daemon's pid and exits 0, or prints one line of error and exits 1. The daemon exits when
// the manager answers "unknown container" or its state directory is removed.
package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/pflag"

	"cm/manager/shimtest"
	"cm/shim/proto"
)

func main() {
	// "cmshim reclaim" deletes what the runtime left of a container; a
	// fake shim never made one, so there is nothing to reclaim.
	if len(os.Args) > 1 && os.Args[1] == "reclaim" {
		return
	}
	var cfg shimtest.Config
	readyFd := -1
	flags := pflag.NewFlagSet("fakeshim", pflag.ContinueOnError)
	flags.StringVar(&cfg.ID, "id", "", "container id")
	flags.StringVar(&cfg.Bundle, "bundle", "", "bundle directory")
	flags.StringVar(&cfg.StateDir, "state-dir", "", "the container's state directory")
	flags.StringVar(&cfg.Manager, "manager", "", "the manager's shim socket")
	flags.String("runtime-root", "", "ignored")
	flags.Int64("log-max", 0, "ignored")
	flags.Bool("init", false, "ignored")
	flags.IntVar(&readyFd, "ready-fd", -1, "be the daemon; say ok or the error on this descriptor")
	tokenFd := flags.Int("token-fd", -1, "read the token to send the manager from this descriptor")
	flags.Int("lock-fd", -1, "the container's shim lock: held, as an open descriptor, until exit")
	if err := flags.Parse(os.Args[1:]); err != nil {
		fail(err)
	}
	if *tokenFd >= 0 {
		token, err := proto.ReadToken(*tokenFd)
		if err != nil {
			fail(err)
		}
		cfg.Token = token
	}
	if cfg.ID == "" || cfg.Bundle == "" || cfg.StateDir == "" || cfg.Manager == "" {
		fail(fmt.Errorf("--id, --bundle, --state-dir and --manager are required"))
	}
	if readyFd < 0 {
		launch(cfg.Token)
		return
	}
	syscall.Setsid() // EPERM when the launcher made us a session leader already
	// Like cmshim, stop writing to what the launcher gave us: it stops reading.
	if null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0); err == nil {
		syscall.Dup2(int(null.Fd()), 1)
		syscall.Dup2(int(null.Fd()), 2)
		null.Close()
	}
	ready := os.NewFile(uintptr(readyFd), "ready")
	shim, err := shimtest.Start(cfg)
	if err != nil {
		fmt.Fprintln(ready, err)
		os.Exit(1)
	}
	fmt.Fprintln(ready, "ok")
	ready.Close()
	<-shim.Done()
}

// launch starts the detached daemon and waits for its word. The token
// goes along on a pipe of its own (proto.TokenFd; the later --token-fd wins).
func launch(token string) {
	r, w, err := os.Pipe()
	if err != nil {
		fail(err)
	}
	args := append([]string{"--ready-fd", strconv.Itoa(proto.ReadyFd)}, os.Args[1:]...)
	extra := []*os.File{w} // proto.ReadyFd
	if token != "" {
		tr, err := proto.TokenPipe(token)
		if err != nil {
			fail(err)
		}
		args = append(args, "--token-fd", strconv.Itoa(proto.TokenFd))
		extra = append(extra, tr) // proto.TokenFd
	}
	cmd := exec.Command("/proc/self/exe", args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.ExtraFiles = extra
	if err := cmd.Start(); err != nil {
		fail(err)
	}
	w.Close()
	line, _ := bufio.NewReader(r).ReadString('\n')
	if line = strings.TrimSpace(line); line != "ok" {
		if line == "" {
			line = "shim daemon exited before it was ready"
		}
		fail(fmt.Errorf("%s", line))
	}
	fmt.Println(cmd.Process.Pid)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "fakeshim:", err)
	os.Exit(1)
}
