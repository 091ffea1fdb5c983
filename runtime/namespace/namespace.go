// Package namespace is cm's one table of Linux namespace kinds: for each
// OCI namespace type, its clone(2) flag, its file under /proc/PID/ns and
// its rank when namespaces are joined with setns(2).
//
// It owns only facts about namespace kinds and reading a config's
// namespace list; it never creates or joins a namespace (nsexec does) and
// never decides whether a config is valid (runtime/spec does).
package namespace

import (
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Kind is what cm knows about one namespace type.
type Kind struct {
	Type      specs.LinuxNamespaceType
	CloneFlag uint32 // the CLONE_NEW* flag that creates it
	ProcName  string // its file under /proc/PID/ns
	// JoinRank orders setns calls: the user namespace first, because it
	// grants the privilege to join the namespaces it owns; the mount
	// namespace last, because it changes what every path means.
	JoinRank int
}

// kinds lists every namespace type cm can create or join.
var kinds = []Kind{
	{specs.UserNamespace, unix.CLONE_NEWUSER, "user", 0},
	{specs.IPCNamespace, unix.CLONE_NEWIPC, "ipc", 1},
	{specs.UTSNamespace, unix.CLONE_NEWUTS, "uts", 1},
	{specs.NetworkNamespace, unix.CLONE_NEWNET, "net", 1},
	{specs.PIDNamespace, unix.CLONE_NEWPID, "pid", 1},
	{specs.CgroupNamespace, unix.CLONE_NEWCGROUP, "cgroup", 1},
	{specs.TimeNamespace, unix.CLONE_NEWTIME, "time", 1},
	{specs.MountNamespace, unix.CLONE_NEWNS, "mnt", 2},
}

// MaxJoined is how many namespaces a config may join by path; the nsexec
// preamble has room for exactly this many (runtime checks they agree).
const MaxJoined = 16

// Lookup returns the kind of namespace type t, and false for a type cm does not know.
func Lookup(t specs.LinuxNamespaceType) (Kind, bool) {
	for _, k := range kinds {
		if k.Type == t {
			return k, true
		}
	}
	return Kind{}, false
}

// CloneFlag is t's clone flag, 0 for an unknown type.
func CloneFlag(t specs.LinuxNamespaceType) uint32 {
	k, _ := Lookup(t)
	return k.CloneFlag
}

// ProcName is t's file name under /proc/PID/ns, "" for an unknown type.
func ProcName(t specs.LinuxNamespaceType) string {
	k, _ := Lookup(t)
	return k.ProcName
}

// JoinRank is t's place in the setns order (lower joins first).
func JoinRank(t specs.LinuxNamespaceType) int {
	k, _ := Lookup(t)
	return k.JoinRank
}

// ByCloneFlag maps a CLONE_NEW* flag, as NS_GET_NSTYPE returns it, back
// to its OCI type; "" for a flag that is no namespace cm knows.
func ByCloneFlag(flag int) specs.LinuxNamespaceType {
	for _, k := range kinds {
		if int(k.CloneFlag) == flag {
			return k.Type
		}
	}
	return ""
}

// Types lists every known namespace type, sorted by name.
func Types() []string {
	names := make([]string, 0, len(kinds))
	for _, k := range kinds {
		names = append(names, string(k.Type))
	}
	sort.Strings(names)
	return names
}

// Find returns the entry of s's linux.namespaces of type t, nil if there is none.
func Find(s *specs.Spec, t specs.LinuxNamespaceType) *specs.LinuxNamespace {
	if s.Linux == nil {
		return nil
	}
	for i := range s.Linux.Namespaces {
		if s.Linux.Namespaces[i].Type == t {
			return &s.Linux.Namespaces[i]
		}
	}
	return nil
}

// Has reports whether s creates or joins a namespace of type t.
func Has(s *specs.Spec, t specs.LinuxNamespaceType) bool {
	return Find(s, t) != nil
}
