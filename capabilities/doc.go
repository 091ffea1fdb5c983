// Package capabilities applies an OCI process.capabilities object to the
// calling thread: it resolves capability names, drops the bounding set,
// and sets the effective, permitted, inheritable and ambient sets.
//
// It owns only the capability state of the calling thread (and the
// thread's keep-caps flag). It never changes user or group IDs, never
// loads seccomp filters and never touches other processes: the container
// init does those steps and calls this package in between.
//
// Capabilities belong to a thread, not to a process, so every call here
// must run on the one OS thread that will execve the user's program (the
// caller holds runtime.LockOSThread). The init uses the package in this
// order (see capabilities(7) for the rules behind it):
//
//	set, err := capabilities.Parse(spec.Process.Capabilities) // any time, even in the parent
//	warnings, err := set.DropBounding()                       // still root with CAP_SETPCAP
//	err = capabilities.SetKeepCaps(true)                      // keep permitted across setuid
//	// ... setgroups, setresgid, setresuid ...
//	more, err := set.ApplyAfterUserChange()                   // effective, permitted, inheritable, ambient
//	// ... execve
//
// What the program sees after execve is not always what was set before it:
// the kernel recomputes the sets at exec (capabilities(7), "Transformation
// of capabilities during execve"). A program run as root gets permitted =
// effective = bounding ∪ inheritable; a program run as any other user (and
// without file capabilities) gets permitted = effective = ambient. That is
// why OCI configs list the same names in bounding, effective and
// permitted, and use ambient to give capabilities to a non-root user.
package capabilities
