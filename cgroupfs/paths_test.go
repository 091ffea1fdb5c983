package cgroupfs

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestResolvePath(t *testing.T) {
	tests := []struct {
		name, cgroupsPath, id string
		want                  string
		wantMsg               string // error text; "" = no error
	}{
		{name: "empty means /<id>", id: "web", want: "/web"},
		{name: "absolute", cgroupsPath: "/cm/web", id: "web", want: "/cm/web"},
		{name: "relative stays relative", cgroupsPath: "cm/web", id: "web", want: "cm/web"},
		{name: "dot components dropped", cgroupsPath: "/cm/./web", id: "web", want: "/cm/web"},
		{name: "dotdot inside the path", cgroupsPath: "/cm/x/../web", id: "web", want: "/cm/web"},
		{name: "absolute escape", cgroupsPath: "/../x", id: "web", wantMsg: `cgroups path "/../x": invalid cgroup path: escapes the cgroup hierarchy`},
		{name: "relative escape", cgroupsPath: "../../x", id: "web", wantMsg: `cgroups path "../../x": invalid cgroup path: escapes`},
		{name: "escape after descent", cgroupsPath: "/a/../../x", id: "web", wantMsg: "escapes the cgroup hierarchy"},
		{name: "hierarchy root", cgroupsPath: "/", id: "web", wantMsg: "names no cgroup"},
		{name: "own cgroup", cgroupsPath: "a/..", id: "web", wantMsg: "names no cgroup"},
		{name: "empty component", cgroupsPath: "/a//b", id: "web", wantMsg: "empty path component"},
		{name: "trailing slash", cgroupsPath: "/a/b/", id: "web", wantMsg: "empty path component"},
		{name: "NUL in path", cgroupsPath: "/a\x00b", id: "web", wantMsg: "contains NUL"},
		{name: "empty ID", cgroupsPath: "", id: "", wantMsg: "container ID: invalid cgroup path: empty"},
		{name: "NUL in ID", id: "a\x00", wantMsg: "contains NUL"},
		{name: "slash in ID", id: "a/b", wantMsg: "single path component"},
		{name: "dotdot ID", id: "..", wantMsg: "single path component"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ResolvePath(tc.cgroupsPath, tc.id)
			if tc.wantMsg != "" {
				require.ErrorIs(t, err, ErrInvalidPath)
				require.ErrorContains(t, err, tc.wantMsg)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

// TestGroupDirs checks where a path lands in each hierarchy: absolute
// paths below each mount point, relative ones below the caller's own
// cgroup there.
func TestGroupDirs(t *testing.T) {
	tests := []struct {
		name string
		spec fakeSpec
		path string
		want []string // below the fake root, in hierarchy order
	}{
		{
			name: "v1 absolute",
			spec: fakeSpec{v1: [][]string{{"cpu", "cpuacct"}, {"memory"}}, self: "/user.slice"},
			path: "/cm/web",
			want: []string{"cpu,cpuacct/cm/web", "memory/cm/web"},
		},
		{
			name: "v1 relative",
			spec: fakeSpec{v1: [][]string{{"cpu", "cpuacct"}, {"memory"}}, self: "/user.slice"},
			path: "cm/web",
			want: []string{"cpu,cpuacct/user.slice/cm/web", "memory/user.slice/cm/web"},
		},
		{
			name: "hybrid adds the unified tree",
			spec: fakeSpec{v1: [][]string{{"memory"}}, unified: []string{"hugetlb"}},
			path: "/web",
			want: []string{"memory/web", "unified/web"},
		},
		{
			name: "v2 relative",
			spec: fakeSpec{unified: []string{"memory"}, self: "/system.slice/cm.service"},
			path: "web",
			want: []string{"system.slice/cm.service/web"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, tc.spec)
			g, err := f.host.Group(tc.path)
			require.NoError(t, err)
			require.Equal(t, tc.path, g.Path())
			var got []string
			for _, d := range g.(*group).dirs {
				rel, err := filepath.Rel(f.root, d.dir)
				require.NoError(t, err)
				got = append(got, rel)
			}
			require.Equal(t, tc.want, got)
		})
	}
}

func TestGroupRejectsBadPath(t *testing.T) {
	f := newFake(t, fakeV1)
	for _, p := range []string{"/../etc", "", "a//b", "/"} {
		_, err := f.host.Group(p)
		require.ErrorIs(t, err, ErrInvalidPath, "path %q", p)
	}
	// Nothing was created for the rejected paths.
	entries, err := os.ReadDir(filepath.Join(f.root, "memory"))
	require.NoError(t, err)
	for _, e := range entries {
		require.False(t, e.IsDir(), "unexpected directory %s", e.Name())
	}
}
