package runtime

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"cm/runtime/seccomp"
)

// seccompCacheDir holds compiled profiles under the state root. libseccomp
// takes milliseconds to compile a large profile (the default one: about
// 13 ms here) and most containers use the same few profiles, so each
// compiled program is kept, named by a hash of the profile.
const seccompCacheDir = ".seccomp-cache"

// compileSeccomp turns linux.seccomp into a BPF program here, in the
// parent: a bad profile fails before anything exists, and the init only
// has to load the result.
func compileSeccomp(root string, s *specs.Spec, t *Trace, debug func(string)) ([]byte, error) {
	if s.Linux.Seccomp == nil {
		return nil, nil
	}
	done := t.Step("cmrun", "compile seccomp profile")
	defer done()
	profile, err := json.Marshal(s.Linux.Seccomp)
	if err != nil {
		return nil, fmt.Errorf("encode linux.seccomp: %w", err)
	}
	sum := sha256.Sum256(append(profile, seccomp.CompilerVersion()...))
	cached := filepath.Join(root, seccompCacheDir, hex.EncodeToString(sum[:]))
	if data, err := os.ReadFile(cached); err == nil {
		var f seccomp.Filter
		if f.UnmarshalBinary(data) == nil {
			return data, nil
		}
	}
	f, skipped, err := seccomp.Build(s.Linux.Seccomp)
	if err != nil {
		return nil, &ConfigError{Problem: err.Error()}
	}
	if len(skipped) > 0 {
		// As the ecosystem does: a profile names syscalls of every architecture.
		debug(fmt.Sprintf("linux.seccomp: syscalls unknown on this architecture skipped: %s", strings.Join(skipped, ", ")))
	}
	data, err := f.MarshalBinary()
	if err != nil {
		return nil, err
	}
	// A cache that cannot be written only costs time on the next run.
	if os.MkdirAll(filepath.Dir(cached), 0o700) == nil {
		WriteFileAtomic(cached, data, 0o644)
	}
	return data, nil
}
