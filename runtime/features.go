package runtime

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"

	"cm/capabilities"
	"cm/runtime/namespace"
	"cm/runtime/seccomp"
	"cm/runtime/spec"
)

// Features describes what this runtime implements, in the runtime-spec's
// features.json format ("cmrun features"): callers such as containerd
// read it to know which config fields they may use.
func Features() *features.Features {
	yes, no := true, false
	actions, operators, archs, flags := seccomp.Supported()
	return &features.Features{
		OCIVersionMin: "1.0.0",
		OCIVersionMax: specs.Version,
		Hooks:         []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"},
		MountOptions:  spec.MountOptionNames(),
		Linux: &features.Linux{
			Namespaces:   namespace.Types(),
			Capabilities: capabilities.Known(),
			Cgroup:       &features.Cgroup{V1: &yes, V2: &yes, Systemd: &no, SystemdUser: &no, Rdma: &no},
			Seccomp: &features.Seccomp{Enabled: &yes, Actions: actions, Operators: operators, Archs: archs,
				KnownFlags: flags, SupportedFlags: flags},
			Apparmor:        &features.Apparmor{Enabled: &no},
			Selinux:         &features.Selinux{Enabled: &no},
			IntelRdt:        &features.IntelRdt{Enabled: &no},
			MountExtensions: &features.MountExtensions{IDMap: &features.IDMap{Enabled: &no}},
			NetDevices:      &features.NetDevices{Enabled: &no},
		},
	}
}
