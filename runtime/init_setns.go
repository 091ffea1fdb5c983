package runtime

import "os"

// setnsInit runs another process in an existing container ("exec"), as
// runc's setns init does: the preamble joined every namespace of the
// container's init and the process was born in the container's cgroup,
// so what is left is the process's own setup, in the root filesystem the
// joined mount namespace already has.
func setnsInit(cfg *initConfig, sock *os.File, t *Trace) error {
	proc, warnings, err := prepareProcess(cfg, sock, t)
	if err != nil {
		return err
	}
	return proc.launch(sock, t, warnings, nil)
}
