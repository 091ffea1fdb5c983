#!/bin/sh
# mkbundle.sh DIR [CMD...]: build an OCI bundle in DIR with a static
# busybox root filesystem (Debian's busybox-static): busybox itself,
# every applet as a symlink, /etc/passwd and /etc/group, and a
# config.json from "cmrun spec --cm", cm's default (with CMD, it runs CMD
# without a terminal).
set -eu
dir=$1; shift
here=$(cd "$(dirname "$0")/.." && pwd)
cmrun=${CMRUN:-$here/bin/cmrun}
busybox=${BUSYBOX:-/bin/busybox}

rm -rf "$dir"
mkdir -p "$dir/rootfs/bin" "$dir/rootfs/etc" "$dir/rootfs/tmp" "$dir/rootfs/root" \
         "$dir/rootfs/proc" "$dir/rootfs/sys" "$dir/rootfs/dev"
cp "$busybox" "$dir/rootfs/bin/busybox"
for applet in $("$busybox" --list); do
	[ "$applet" = busybox ] || ln -s busybox "$dir/rootfs/bin/$applet"
done
mkdir -p "$dir/rootfs/usr" && ln -s ../bin "$dir/rootfs/usr/bin" && ln -s bin "$dir/rootfs/sbin"
chmod 1777 "$dir/rootfs/tmp"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$dir/rootfs/etc/passwd"
printf 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n' >"$dir/rootfs/etc/group"
"$cmrun" spec --cm --bundle "$dir" -- "$@"
