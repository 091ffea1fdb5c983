package tests

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The tests in this file drive cmrun through the real container engines
// users run, podman and containerd, as a drop-in for runc.

// client runs one engine command with a time limit and returns its
// combined output and exit code.
func client(t *testing.T, env []string, name string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err, "%s %v: %s", name, args, out)
	}
	return string(out), code
}

// podmanEnv keeps podman's configuration and storage in a temporary
// directory and makes cmrun its runtime, with JSON logs.
func podmanEnv(t *testing.T) []string {
	dir := t.TempDir()
	conf := fmt.Sprintf(`[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "cmrun"
runtime_supports_json = ["cmrun"]
[engine.runtimes]
cmrun = [%q]
`, filepath.Join(binDir, "cmrun"))
	storage := fmt.Sprintf("[storage]\ndriver = \"vfs\"\nrunroot = %q\ngraphroot = %q\n", filepath.Join(dir, "run"), filepath.Join(dir, "graph"))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "containers.conf"), []byte(conf), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "storage.conf"), []byte(storage), 0o644))
	return []string{"CONTAINERS_CONF=" + filepath.Join(dir, "containers.conf"), "CONTAINERS_STORAGE_CONF=" + filepath.Join(dir, "storage.conf")}
}

func TestPodman(t *testing.T) {
	env := podmanEnv(t)
	tarball := filepath.Join(t.TempDir(), "rootfs.tar")
	out, err := exec.Command("tar", "-C", rootfsProto, "-cf", tarball, ".").CombinedOutput()
	require.NoError(t, err, string(out))
	out2, code := client(t, env, "podman", "import", tarball, "cm-busybox")
	require.Equal(t, 0, code, out2)
	cmrun := filepath.Join(binDir, "cmrun")
	// Root here lacks CAP_SYS_RESOURCE: podman's default rlimits are above our hard limits.
	run := []string{"--runtime", cmrun, "run", "--network", "none", "--cgroup-manager", "cgroupfs",
		"--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768"}
	podman := func(args ...string) (string, int) { return client(t, env, "podman", args...) }

	out2, code = podman(append(run, "--rm", "cm-busybox", "sh", "-c", "echo hello from podman; exit 3")...)
	require.Equal(t, 3, code, out2)
	require.Equal(t, "hello from podman", strings.TrimSpace(out2))

	out2, code = podman(append(run, "-d", "cm-busybox", "sleep", "300")...)
	require.Equal(t, 0, code, out2)
	cid := strings.TrimSpace(out2)
	out2, code = podman("--runtime", cmrun, "exec", cid, "sh", "-c", "echo exec in $(cat /proc/1/cmdline | tr '\\0' ' ')")
	require.Equal(t, 0, code, out2)
	require.Equal(t, "exec in sleep 300", strings.TrimSpace(out2))
	out2, code = podman("--runtime", cmrun, "stop", "-t", "1", cid)
	require.Equal(t, 0, code, out2)
	out2, code = podman("--runtime", cmrun, "inspect", "--format", "{{.State.Status}}", cid)
	require.Equal(t, 0, code, out2)
	require.Equal(t, "exited", strings.TrimSpace(out2))
	out2, code = podman("--runtime", cmrun, "rm", cid)
	require.Equal(t, 0, code, out2)

	out2, code = podman(append(run, "--rm", "-t", "cm-busybox", "tty")...)
	require.Equal(t, 0, code, out2)
	require.Equal(t, "/dev/pts/0", strings.TrimSpace(out2))

	out2, code = podman("ps", "-a", "-q")
	require.Equal(t, 0, code, out2)
	require.Empty(t, strings.TrimSpace(out2), "podman rm and --rm must leave no container")
}

func TestContainerd(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "containerd.sock")
	config := fmt.Sprintf("version = 2\nroot = %q\nstate = %q\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n[grpc]\n  address = %q\n",
		filepath.Join(dir, "root"), filepath.Join(dir, "state"), sock)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.toml"), []byte(config), 0o644))
	logFile, err := os.Create(filepath.Join(dir, "containerd.log"))
	require.NoError(t, err)
	defer logFile.Close()
	daemon := exec.Command("containerd", "--config", filepath.Join(dir, "config.toml"))
	daemon.Stdout, daemon.Stderr = logFile, logFile
	require.NoError(t, daemon.Start())
	t.Cleanup(func() { daemon.Process.Kill(); daemon.Wait() })
	ctr := func(args ...string) (string, int) {
		return client(t, nil, "ctr", append([]string{"--address", sock}, args...)...)
	}
	require.Eventually(t, func() bool { _, code := ctr("version"); return code == 0 }, waitLong, 100*time.Millisecond)

	out, code := ctr("images", "import", "--index-name", "cm-busybox:latest", ociArchive(t))
	require.Equal(t, 0, code, out)
	cmrun := filepath.Join(binDir, "cmrun")
	out, code = ctr("run", "--rm", "--runc-binary", cmrun, "cm-busybox:latest", "cm-ctr-1", "sh", "-c", "echo hello from containerd; echo pid $$")
	require.Equal(t, 0, code, out)
	require.Equal(t, "hello from containerd\npid 1", strings.TrimSpace(out))
	out, code = ctr("run", "--rm", "--runc-binary", cmrun, "cm-busybox:latest", "cm-ctr-2", "sh", "-c", "exit 4")
	require.Equal(t, 4, code, out)
	out, code = ctr("containers", "ls", "-q")
	require.Equal(t, 0, code, out)
	require.Empty(t, strings.TrimSpace(out))
}

// ociArchive packs the busybox root filesystem as a one-layer OCI image
// archive (image-spec's image layout, tarred), what "ctr images import" reads.
func ociArchive(t *testing.T) string {
	dir := t.TempDir()
	layout := filepath.Join(dir, "layout")
	blobs := filepath.Join(layout, "blobs", "sha256")
	require.NoError(t, os.MkdirAll(blobs, 0o755))
	addBlob := func(data []byte) (string, int) {
		sum := sha256.Sum256(data)
		hexSum := hex.EncodeToString(sum[:])
		require.NoError(t, os.WriteFile(filepath.Join(blobs, hexSum), data, 0o644))
		return "sha256:" + hexSum, len(data)
	}
	layerTar := filepath.Join(dir, "layer.tar")
	out, err := exec.Command("tar", "-C", rootfsProto, "-cf", layerTar, ".").CombinedOutput()
	require.NoError(t, err, string(out))
	layer, err := os.ReadFile(layerTar)
	require.NoError(t, err)
	layerDigest, layerSize := addBlob(layer)
	config, _ := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux",
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{layerDigest}},
		"config": map[string]any{"Cmd": []string{"sh"}},
	})
	configDigest, configSize := addBlob(config)
	manifest, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": configDigest, "size": configSize},
		"layers": []any{map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layerDigest, "size": layerSize}},
	})
	manifestDigest, manifestSize := addBlob(manifest)
	index, _ := json.Marshal(map[string]any{"schemaVersion": 2, "manifests": []any{map[string]any{
		"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifestDigest, "size": manifestSize}}})
	require.NoError(t, os.WriteFile(filepath.Join(layout, "index.json"), index, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(layout, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644))
	archive := filepath.Join(dir, "image.tar")
	out, err = exec.Command("tar", "-C", layout, "-cf", archive, ".").CombinedOutput()
	require.NoError(t, err, string(out))
	return archive
}
