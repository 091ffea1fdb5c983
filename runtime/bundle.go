package runtime

import (
	"cm/runtime/seccomp"
	"cm/runtime/spec"
)

// Bundle is a loaded and checked OCI bundle, as package spec loads it;
// the create and exec paths carry it to the init.
type Bundle = spec.Bundle

// LoadBundle reads dir/config.json and validates it for creating a
// container, the seccomp profile included.
func LoadBundle(dir string) (*Bundle, error) {
	return spec.LoadBundle(dir, seccomp.Validate)
}
