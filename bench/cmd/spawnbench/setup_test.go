package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLoadProfile(t *testing.T) {
	// The committed copy of podman's profile is what make bench measures.
	p, err := loadProfile(filepath.Join("..", "..", "profiles", "podman-4.3-seccomp.json"))
	require.NoError(t, err)
	require.Equal(t, "SCMP_ACT_ERRNO", string(p.DefaultAction))
	require.NotEmpty(t, p.Architectures)
	require.Greater(t, len(p.Syscalls), 5)

	dir := t.TempDir()
	tests := []struct{ name, content, wantErr string }{
		{"no seccomp section", `{"podman": "x"}`, "has no seccomp section"},
		{"not JSON", `{`, "parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "profile.json")
			require.NoError(t, os.WriteFile(path, []byte(tt.content), 0o644))
			_, err := loadProfile(path)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
	_, err = loadProfile(filepath.Join(dir, "missing.json"))
	require.ErrorContains(t, err, "make bench-profile")
}
