#!/bin/sh
# podman-seccomp.sh OUT: write the linux.seccomp section of the config.json
# that podman writes for `podman create --rootfs ROOTFS true`, wrapped in
# a JSON object that says where it came from, so spawnbench can measure
# podman's default profile without running podman.
#
# Podman writes a container's OCI bundle only when it initialises it;
# with --rootfs no image is pulled. Everything podman keeps (its
# configuration, storage and run root) lives in a temporary directory that
# is removed on exit. --network none and the ulimits (root here may not
# raise RLIMIT_NOFILE to podman's default) let `podman init` succeed
# offline; the seccomp section does not depend on them. runc creates the
# container because crun refuses this host's hybrid cgroups; which runtime
# podman hands the bundle to does not change what it writes.
set -eu
out=$1
busybox=${BUSYBOX:-/bin/busybox}
tmp=$(mktemp -d /tmp/podman-seccomp.XXXXXX)
export CONTAINERS_CONF="$tmp/containers.conf" CONTAINERS_STORAGE_CONF="$tmp/storage.conf"
cleanup() {
	podman rm --force --all >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT

printf '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n' >"$CONTAINERS_CONF"
printf '[storage]\ndriver = "vfs"\nrunroot = "%s"\ngraphroot = "%s"\n' "$tmp/run" "$tmp/graph" >"$CONTAINERS_STORAGE_CONF"
mkdir -p "$tmp/rootfs/bin"
cp "$busybox" "$tmp/rootfs/bin/busybox"
ln -s busybox "$tmp/rootfs/bin/true"

id=$(podman create --runtime runc --network none --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 \
	--rootfs "$tmp/rootfs" true)
podman init "$id" >/dev/null
config="$tmp/graph/vfs-containers/$id/userdata/config.json"
[ -f "$config" ] || { echo "podman-seccomp.sh: podman wrote no $config" >&2; exit 1; }

version=$(podman --version)
jq --arg version "$version" --arg os "$(. /etc/os-release && echo "$PRETTY_NAME")" '{
	comment: "The linux.seccomp section of the config.json that \($version) (\($os)) writes for `podman create --rootfs ROOTFS true` (then `podman init`), as root, with its default capabilities. Regenerate with `make bench-profile` (bench/profiles/podman-seccomp.sh).",
	podman: $version,
	seccomp: .linux.seccomp
}' "$config" >"$out.tmp"
mv "$out.tmp" "$out"
