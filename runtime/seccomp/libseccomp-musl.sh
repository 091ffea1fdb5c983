#!/bin/sh
# libseccomp-musl.sh DIR builds libseccomp as a static library for musl
# into DIR/prefix, for the static cmrun and cmshim (see "musl" in the
# Makefile). Debian packages libseccomp for glibc only, so this builds
# Debian's own source tarball of the same version, checked by its hash.
# A second call with the library in place does nothing.
set -eu

version=2.5.4
sha256=d82902400405cf0068574ef3dc1fe5f5926207543ba1ae6f8e7a1576351dcbdb
url=http://deb.debian.org/debian/pool/main/libs/libseccomp/libseccomp_$version.orig.tar.gz

mkdir -p "$1"
dir=$(cd "$1" && pwd)
[ -f "$dir/prefix/lib/libseccomp.a" ] && exit 0

tarball=$dir/libseccomp_$version.orig.tar.gz
if [ ! -f "$tarball" ]; then
	curl -fsSL -o "$tarball.part" "$url"
	echo "$sha256  $tarball.part" | sha256sum -c --quiet
	mv "$tarball.part" "$tarball"
fi
rm -rf "$dir/libseccomp-$version"
tar -C "$dir" -xzf "$tarball"
cd "$dir/libseccomp-$version"
# musl-gcc searches only musl's headers; the kernel's (linux/seccomp.h)
# come from the system's, after them.
multiarch=$(gcc -print-multiarch)
if ! CC=musl-gcc CFLAGS="-O2 -idirafter /usr/include -idirafter /usr/include/$multiarch" \
	./configure --prefix="$dir/prefix" --enable-static --disable-shared >"$dir/build.log" 2>&1 ||
	! make -j"$(nproc)" install >>"$dir/build.log" 2>&1; then
	echo "libseccomp-musl.sh: building libseccomp $version failed; see $dir/build.log" >&2
	exit 1
fi
