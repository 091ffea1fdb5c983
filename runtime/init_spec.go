package runtime

import specs "github.com/opencontainers/runtime-spec/specs-go"

// initSpec is the part of the spec the container init reads, as it
// travels to the init. The init could decode a whole specs.Spec, but
// every type in it costs the freshly started init its decoding tables
// (see package lazyjson, which decodes it), and the resources and the
// seccomp profile are most of a spec. These are the same OCI types, only
// fewer of them; the cgroup resources and the seccomp profile stay with
// the parent, which applies them (the init gets the compiled filter).
type initSpec struct {
	Version     string            `json:"ociVersion"`
	Process     *specs.Process    `json:"process,omitempty"`
	Root        *specs.Root       `json:"root,omitempty"`
	Hostname    string            `json:"hostname,omitempty"`
	Domainname  string            `json:"domainname,omitempty"`
	Mounts      []specs.Mount     `json:"mounts,omitempty"`
	Hooks       *specs.Hooks      `json:"hooks,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Linux       *initLinux        `json:"linux,omitempty"`
}

// initLinux is the part of linux the init reads.
type initLinux struct {
	UIDMappings       []specs.LinuxIDMapping  `json:"uidMappings,omitempty"`
	GIDMappings       []specs.LinuxIDMapping  `json:"gidMappings,omitempty"`
	Sysctl            map[string]string       `json:"sysctl,omitempty"`
	Namespaces        []specs.LinuxNamespace  `json:"namespaces,omitempty"`
	Devices           []specs.LinuxDevice     `json:"devices,omitempty"`
	RootfsPropagation string                  `json:"rootfsPropagation,omitempty"`
	MaskedPaths       []string                `json:"maskedPaths,omitempty"`
	ReadonlyPaths     []string                `json:"readonlyPaths,omitempty"`
	MountLabel        string                  `json:"mountLabel,omitempty"`
	Personality       *specs.LinuxPersonality `json:"personality,omitempty"`
}

// initSpecOf picks what the init needs from s.
func initSpecOf(s *specs.Spec) *initSpec {
	is := &initSpec{Version: s.Version, Process: s.Process, Root: s.Root, Hostname: s.Hostname,
		Domainname: s.Domainname, Mounts: s.Mounts, Hooks: s.Hooks, Annotations: s.Annotations}
	if l := s.Linux; l != nil {
		is.Linux = &initLinux{UIDMappings: l.UIDMappings, GIDMappings: l.GIDMappings, Sysctl: l.Sysctl,
			Namespaces: l.Namespaces, Devices: l.Devices, RootfsPropagation: l.RootfsPropagation,
			MaskedPaths: l.MaskedPaths, ReadonlyPaths: l.ReadonlyPaths, MountLabel: l.MountLabel,
			Personality: l.Personality}
	}
	return is
}

// spec turns what the init received back into a spec for its code to read.
func (is *initSpec) spec() *specs.Spec {
	s := &specs.Spec{Version: is.Version, Process: is.Process, Root: is.Root, Hostname: is.Hostname,
		Domainname: is.Domainname, Mounts: is.Mounts, Hooks: is.Hooks, Annotations: is.Annotations}
	if l := is.Linux; l != nil {
		s.Linux = &specs.Linux{UIDMappings: l.UIDMappings, GIDMappings: l.GIDMappings, Sysctl: l.Sysctl,
			Namespaces: l.Namespaces, Devices: l.Devices, RootfsPropagation: l.RootfsPropagation,
			MaskedPaths: l.MaskedPaths, ReadonlyPaths: l.ReadonlyPaths, MountLabel: l.MountLabel,
			Personality: l.Personality}
	}
	return s
}
