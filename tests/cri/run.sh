#!/bin/bash
# tests/cri/run.sh: Kubernetes' CRI validation suite (critest) through a
# private containerd, once with runc and once with cmrun as the runtime,
# side by side; prints both counts and the specs only one runtime failed.
#
#   tests/cri/run.sh CMRUN        (as root; `make cri-test` builds CMRUN)
#
# Everything it starts lives under one temporary directory: containerd (own
# root, state, socket, under a child subreaper because this host's PID 1
# never reaps), a local registry (`crane registry serve`) that containerd's
# registry mirrors point at, the CNI plugins and their bridge. The test
# images are built here from busybox-static and tests/cri/imgbin; critest,
# the CNI plugins and crane come from the Go module proxy. Teardown removes
# it all, also after a failure or Ctrl-C.
#
# Environment: CRI_CACHE (default build/cri-test; make clean removes it) keeps the built
# tools between runs; CRITEST_ARGS adds critest flags (e.g.
# CRITEST_ARGS='--ginkgo.focus=mount'); CRI_RUNTIMES (default "runc cm").
set -euo pipefail

CMRUN=$(readlink -f "${1:?usage: run.sh PATH-TO-CMRUN}")
RUNC=$(command -v runc || echo /usr/sbin/runc)
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CRITOOLS_VERSION=v1.37.0
CNI_VERSION=v1.10.0
CRANE_VERSION=v0.22.1
CACHE=${CRI_CACHE:-$REPO/build/cri-test}
TOOLS=$CACHE/bin-$CRITOOLS_VERSION-$CNI_VERSION-$CRANE_VERSION
RUNTIMES=${CRI_RUNTIMES:-runc cm}
BRIDGE=cmcri0
NETNAME=cm-critest
SUBNET=10.222.33.0/24

log() { echo "cri-test: $*" >&2; }
die() { log "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root"
[ -x "$CMRUN" ] || die "no cmrun at $1"
[ -x "$RUNC" ] || die "runc is not installed"
for tool in containerd ctr busybox go iptables ip ipcmk ipcrm; do
	command -v $tool >/dev/null || die "$tool is not installed (make deps-cri installs the packages)"
done

# --- tools from the Go module proxy -----------------------------------------
build_tools() {
	[ -x "$TOOLS/critest" ] && return
	log "building critest $CRITOOLS_VERSION, CNI plugins $CNI_VERSION and crane $CRANE_VERSION (once; kept in $TOOLS)"
	local tmp=$TOOLS.tmp
	rm -rf "$tmp" && mkdir -p "$tmp/src"
	export GOFLAGS=-mod=mod
	GOBIN=$tmp go install github.com/containernetworking/plugins/plugins/main/bridge@$CNI_VERSION \
		github.com/containernetworking/plugins/plugins/main/loopback@$CNI_VERSION \
		github.com/containernetworking/plugins/plugins/ipam/host-local@$CNI_VERSION \
		github.com/containernetworking/plugins/plugins/meta/portmap@$CNI_VERSION
	GOBIN=$tmp go install github.com/google/go-containerregistry/cmd/crane@$CRANE_VERSION
	# critest is a test binary (cri-tools' Makefile: go test -c ./cmd/critest):
	# build it from a writable copy of the module.
	local dir
	dir=$(cd "$tmp" && go mod download -json sigs.k8s.io/cri-tools@$CRITOOLS_VERSION | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
	[ -d "$dir" ] || die "download sigs.k8s.io/cri-tools@$CRITOOLS_VERSION failed"
	cp -r "$dir" "$tmp/src/cri-tools" && chmod -R u+w "$tmp/src/cri-tools"
	(cd "$tmp/src/cri-tools" && go test -c -o "$tmp/critest" ./cmd/critest)
	rm -rf "$tmp/src" "$TOOLS"
	mv "$tmp" "$TOOLS"
}

# --- teardown ---------------------------------------------------------------
WORK=
CONTAINERD_PID=
REGISTRY_PID=
teardown() {
	set +e
	[ -n "$WORK" ] || return
	log "tearing down"
	if [ -n "$CONTAINERD_PID" ] && kill -0 "$CONTAINERD_PID" 2>/dev/null; then
		local c="ctr --address $SOCK --namespace k8s.io"
		for t in $($c tasks ls -q 2>/dev/null); do $c tasks kill -s SIGKILL "$t" >/dev/null 2>&1; done
		for t in $($c tasks ls -q 2>/dev/null); do $c tasks delete -f "$t" >/dev/null 2>&1; done
		for ctn in $($c containers ls -q 2>/dev/null); do $c containers delete "$ctn" >/dev/null 2>&1; done
		kill -TERM "$CONTAINERD_PID"
		wait "$CONTAINERD_PID"
	fi
	if [ -n "$REGISTRY_PID" ]; then
		kill "$REGISTRY_PID" 2>/dev/null
		wait "$REGISTRY_PID" 2>/dev/null
	fi
	# Mounts under the work directory (snapshots, shm, netns), deepest first.
	awk -v w="$WORK" '$5 == w || index($5, w "/") == 1 {print $5}' /proc/self/mountinfo | sort -r |
		while read -r m; do umount -l "$m"; done
	ip link del "$BRIDGE" 2>/dev/null
	# portmap's and bridge's iptables chains for our network.
	for table in nat filter; do
		iptables -t $table -S 2>/dev/null | grep -- "$NETNAME\|$SUBNET" | grep '^-A' | sed 's/^-A/-D/' |
			while read -r rule; do eval iptables -t $table $rule; done
	done
	rm -rf /var/lib/cni/results/$NETNAME-* 2>/dev/null
	# containerd's CNI library keeps its cache there: remove it if it made it.
	[ -n "$CNI_CACHE_EXISTED" ] || rm -rf /var/lib/cni
	# critest's HostIpc specs make shared memory segments on the host (ipcmk) and leave them.
	for id in $(awk 'NR > 1 && $7 == 0 {print $2}' /proc/sysvipc/shm); do
		grep -qx "$id" <<<"$SHM_BEFORE" || ipcrm -m "$id"
	done
	# Container cgroups containerd asked for (cgroupsPath /k8s.io/<id> or below its own).
	for d in /sys/fs/cgroup/*/k8s.io /sys/fs/cgroup/k8s.io; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	rm -rf "$WORK"
	WORK=
}
trap teardown EXIT
trap 'exit 130' INT TERM

build_tools
SHM_BEFORE=$(awk 'NR > 1 {print $2}' /proc/sysvipc/shm)
CNI_CACHE_EXISTED=$( [ -e /var/lib/cni ] && echo yes || true)
WORK=$(mktemp -d /tmp/cm-cri-test.XXXXXX)
chmod 755 "$WORK"
SOCK=$WORK/containerd.sock
mkdir -p "$WORK/bin" "$WORK/cni/bin" "$WORK/cni/conf" "$WORK/images"
cp "$TOOLS"/{bridge,loopback,host-local,portmap} "$WORK/cni/bin/"
(cd "$REPO" && go build -o "$WORK/bin/" ./tests/cri/harness && CGO_ENABLED=0 go build -o "$WORK/images/" ./tests/cri/imgbin)
CRANE=$TOOLS/crane

# --- the local registry and the test images ---------------------------------
"$CRANE" registry serve --address 127.0.0.1:0 >"$WORK/registry.log" 2>&1 &
REGISTRY_PID=$!
for _ in $(seq 100); do
	PORT=$(sed -n 's/.*serving on port \([0-9]*\).*/\1/p' "$WORK/registry.log")
	[ -n "$PORT" ] && break
	sleep 0.1
done
[ -n "${PORT:-}" ] || die "the registry did not start: $(cat "$WORK/registry.log")"
REG=127.0.0.1:$PORT
export GGCR_DISABLE_PROGRESS=1

# layer DIR TAR: a tarball of DIR owned by root, as an image layer.
layer() { tar --numeric-owner --owner=0 --group=0 -C "$1" -cf "$2" .; }

# image REF LAYER... -- MUTATE-FLAGS...: push an image of the layers to the
# local registry under REF's path (the mirrors serve it for every registry).
image() {
	local ref=$1 layers=() base
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do layers+=(-f "$1"); shift; done
	[ $# -gt 0 ] && shift
	base=$REG/base-$RANDOM$RANDOM:1
	"$CRANE" append --insecure "${layers[@]}" -t "$base" >>"$WORK/images/crane.log" 2>&1
	"$CRANE" mutate --insecure "$base" --set-platform linux/amd64 \
		-e PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@" -t "$REG/$ref" >>"$WORK/images/crane.log" 2>&1
}

build_images() {
	log "building the test images into the registry at $REG"
	local r=$WORK/images/rootfs
	# busybox: the static binary with every applet hard-linked, and the users
	# critest's images define (www-data; default-user in group 50000).
	mkdir -p "$r/bin" "$r/etc" "$r/tmp" "$r/var/run" "$r/root" "$r/home/default-user"
	cp "$(command -v busybox)" "$r/bin/busybox"
	for a in $("$r/bin/busybox" --list); do [ "$a" = busybox ] || ln "$r/bin/busybox" "$r/bin/$a"; done
	chmod 1777 "$r/tmp"
	cat >"$r/etc/passwd" <<-EOF
		root:x:0:0:root:/root:/bin/sh
		www-data:x:33:33:www-data:/var/www:/bin/sh
		default-user:x:1000:1000:Linux User,,,:/home/default-user:/bin/sh
		nobody:x:65534:65534:nobody:/nonexistent:/bin/false
	EOF
	cat >"$r/etc/group" <<-EOF
		root:x:0:
		www-data:x:33:
		default-user:x:1000:
		group-defined-in-image:x:50000:default-user
		nogroup:x:65534:
	EOF
	layer "$r" "$WORK/images/busybox.tar"
	local bb=$WORK/images/busybox.tar
	# imgbin under the names of the programs it stands in for.
	local p=$WORK/images/progs
	mkdir -p "$p/usr/sbin" "$p/usr/bin" "$p/usr/local/bin"
	cp "$WORK/images/imgbin" "$p/usr/sbin/nginx"
	ln "$p/usr/sbin/nginx" "$p/usr/sbin/httpd"
	ln "$p/usr/sbin/nginx" "$p/usr/sbin/pause"
	ln "$p/usr/sbin/nginx" "$p/usr/local/bin/nonewprivs"
	ln "$p/usr/sbin/nginx" "$p/usr/bin/ipcs"
	chmod 4755 "$p/usr/sbin/nginx" # setuid root, for nonewprivs
	layer "$p" "$WORK/images/progs.tar"
	local pr=$WORK/images/progs.tar
	local e2e=e2e-test-images cri=k8s-staging-cri-tools

	image pause:3.9 "$pr" -- --entrypoint /usr/sbin/pause
	image pause:3.6 "$pr" -- --entrypoint /usr/sbin/pause
	image $e2e/busybox:1.29-2 "$bb" "$pr" -- --cmd sh
	image $e2e/nginx:1.14-2 "$bb" "$pr" -- --entrypoint /usr/sbin/nginx --cmd=-g,'daemon off; master process' --exposed-ports 80
	image $e2e/httpd:2.4.39-4 "$bb" "$pr" -- --entrypoint /usr/sbin/httpd --exposed-ports 80
	image $e2e/nonewprivs:1.3 "$bb" "$pr" -- --entrypoint /usr/local/bin/nonewprivs
	image $cri/hostnet-nginx-amd64 "$bb" "$pr" -- --entrypoint /usr/sbin/nginx --cmd=-p,12003,-g,'daemon off; master process'
	image $cri/test-image-user-uid "$bb" -- --cmd sh --user 1002
	image $cri/test-image-user-username "$bb" -- --cmd sh --user www-data
	image $cri/test-image-user-uid-group "$bb" -- --cmd sh --user 1003:group
	image $cri/test-image-user-username-group "$bb" -- --cmd sh --user www-data:group
	image $cri/test-image-predefined-group "$bb" -- --cmd sh --user 1000
	# Images told apart by a file named after them (images/image-test).
	local t
	for t in test-image-latest test-image-tag:test test-image-tag:all test-image-1 test-image-2 test-image-3 test-image-tags; do
		mkdir -p "$WORK/images/$t" && echo "$t" >"$WORK/images/$t/${t%%:*}"
		layer "$WORK/images/$t" "$WORK/images/$t.tar"
		image "$cri/$t" "$bb" "$WORK/images/$t.tar" -- --cmd sh
	done
	"$CRANE" tag --insecure "$REG/$cri/test-image-tags" 1 2>>"$WORK/images/crane.log" && "$CRANE" tag --insecure "$REG/$cri/test-image-tags" 2 2>>"$WORK/images/crane.log"
	"$CRANE" tag --insecure "$REG/$cri/test-image-tags" 3 2>>"$WORK/images/crane.log"
}
build_images

# --- containerd -------------------------------------------------------------
cat >"$WORK/cni/conf/10-$NETNAME.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "$NETNAME",
  "plugins": [
    {"type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": "$WORK/cni/ipam", "ranges": [[{"subnet": "$SUBNET"}]],
              "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
mirrors=
for r in registry.k8s.io k8s.gcr.io gcr.io docker.io; do
	mirrors+="[plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors.\"$r\"]
  endpoint = [\"http://$REG\"]
"
done
cat >"$WORK/containerd.toml" <<EOF
version = 2
root = "$WORK/root"
state = "$WORK/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "$SOCK"

[plugins."io.containerd.internal.v1.opt"]
  path = "$WORK/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.9"
  # This host's root lacks CAP_SYS_RESOURCE: it cannot lower oom_score_adj.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"

[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "$WORK/cni/bin"
  conf_dir = "$WORK/cni/conf"

[plugins."io.containerd.grpc.v1.cri".containerd]
  default_runtime_name = "runc"
  snapshotter = "overlayfs"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
    BinaryName = "$RUNC"
    Root = "$WORK/runc-root"
    SystemdCgroup = false

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.cm]
  runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.cm.options]
    BinaryName = "$CMRUN"
    Root = "$WORK/cmrun-root"
    SystemdCgroup = false

$mirrors
EOF
log "starting containerd $(containerd --version | awk '{print $3}') on $SOCK"
"$WORK/bin/harness" subreaper containerd --config "$WORK/containerd.toml" >"$WORK/containerd.log" 2>&1 &
CONTAINERD_PID=$!
for _ in $(seq 100); do
	ctr --address "$SOCK" version >/dev/null 2>&1 && break
	kill -0 $CONTAINERD_PID 2>/dev/null || die "containerd exited: $(tail -20 "$WORK/containerd.log")"
	sleep 0.2
done
ctr --address "$SOCK" version >/dev/null || die "containerd did not answer: $(tail -20 "$WORK/containerd.log")"

# --- critest, once per runtime ----------------------------------------------
for rt in $RUNTIMES; do
	log "critest $CRITOOLS_VERSION with runtime handler $rt"
	# critest's exit code says whether every spec passed; the report says which.
	(cd "$WORK" && "$TOOLS/critest" --runtime-endpoint "unix://$SOCK" --image-endpoint "unix://$SOCK" \
		--runtime-handler "$rt" --ginkgo.no-color --ginkgo.junit-report "$WORK/critest-$rt.xml" \
		${CRITEST_ARGS:-}) >"$WORK/critest-$rt.log" 2>&1 || true
	grep -E '^(Ran [0-9]+ of|FAIL!|SUCCESS!)' "$WORK/critest-$rt.log" >&2 || tail -20 "$WORK/critest-$rt.log" >&2
	if [ -n "${CRI_KEEP_LOGS:-}" ]; then cp "$WORK/critest-$rt.log" "$WORK/critest-$rt.xml" "$CRI_KEEP_LOGS/"; fi
done
if [ -n "${CRI_KEEP_LOGS:-}" ]; then cp "$WORK/containerd.log" "$CRI_KEEP_LOGS/"; fi
set -- $RUNTIMES
[ $# = 2 ] || exit 0
"$WORK/bin/harness" report "$WORK/critest-$1.xml" "$WORK/critest-$2.xml" | tee "$WORK/report.txt"
passed() { sed -n "s/^critest $1 *: \([0-9]*\) passed.*/\1/p" "$WORK/report.txt"; }
[ "$(passed cmrun)" -ge "$(passed runc)" ] || die "cmrun passes fewer critest specs than runc"
