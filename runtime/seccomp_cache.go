package runtime

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"cm/runtime/lazyjson"
	"cm/runtime/seccomp"
	"cm/runtime/spec"
)

// seccompCacheDir holds compiled profiles under the state root. libseccomp
// takes milliseconds to compile a large profile (README's benchmarks have
// the default one's time) and most containers use the same few profiles, so each
// compiled program is kept, named by a hash of the profile.
const seccompCacheDir = ".seccomp-cache"

// seccompCacheFormat is part of every entry's name: entries carry a
// checksum since format 2, and a new name keeps a cmrun of another format
// (an upgrade with containers still running) from loading them as a filter.
const seccompCacheFormat = "cache-format-2"

// compileSeccomp turns linux.seccomp into a BPF program here, in the
// parent: a bad profile fails before anything exists, and the init only
// has to load the result.
func compileSeccomp(root string, s *specs.Spec, t *Trace, debug func(string)) ([]byte, error) {
	if s.Linux.Seccomp == nil {
		return nil, nil
	}
	done := t.Step("cmrun", "compile seccomp profile")
	defer done()
	profile, err := lazyjson.Marshal(s.Linux.Seccomp)
	if err != nil {
		return nil, fmt.Errorf("encode linux.seccomp: %w", err)
	}
	key := sha256.Sum256(append(append(profile, seccomp.CompilerVersion()...), seccompCacheFormat...))
	cacheDir := filepath.Join(root, seccompCacheDir)
	cached := filepath.Join(cacheDir, hex.EncodeToString(key[:]))
	// Only a cache nobody else can write is worth reading: a planted
	// program would be loaded as this container's filter.
	if err := checkStateRoot(root); err != nil {
		return nil, err
	}
	if err := checkPrivateDir("seccomp cache", cacheDir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if data, ok := readCachedFilter(cached, key); ok {
		return data, nil
	}
	f, skipped, err := seccomp.Build(s.Linux.Seccomp)
	if err != nil {
		return nil, &spec.ConfigError{Problem: err.Error()}
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
	if os.MkdirAll(cacheDir, 0o700) == nil && checkPrivateDir("seccomp cache", cacheDir) == nil {
		WriteFileAtomic(cached, cacheEntry(key, data), 0o600)
	}
	return data, nil
}

// cacheEntry is a compiled program preceded by a checksum of the program
// and the key it was compiled for: an entry changed on disk, or copied
// from another profile's name, no longer matches and is compiled afresh.
func cacheEntry(key [sha256.Size]byte, filter []byte) []byte {
	sum := entrySum(key, filter)
	return append(sum[:], filter...)
}

func entrySum(key [sha256.Size]byte, filter []byte) [sha256.Size]byte {
	return sha256.Sum256(append(key[:], filter...))
}

// readCachedFilter returns the program cached at path if its checksum
// matches key and it decodes.
func readCachedFilter(path string, key [sha256.Size]byte) ([]byte, bool) {
	data, err := os.ReadFile(path)
	if err != nil || len(data) < sha256.Size {
		return nil, false
	}
	filter := data[sha256.Size:]
	if entrySum(key, filter) != [sha256.Size]byte(data[:sha256.Size]) {
		return nil, false
	}
	var f seccomp.Filter
	if f.UnmarshalBinary(filter) != nil {
		return nil, false
	}
	return filter, true
}
