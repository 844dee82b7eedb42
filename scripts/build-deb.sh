#!/usr/bin/env bash
# Builds tenantsync_VERSION_ARCH.deb from an existing swift build, offline, with
# Debian's own tools (dpkg-deb, dpkg-shlibdeps; lintian checks the result in the
# test). Usually run through `make deb`.
#
# Environment:
#   BUILDDIR       the build directory holding tenantsyncd, tenantsyncctl and
#                  tenantsync-manpages (default .build/$CONFIGURATION)
#   CONFIGURATION  release (default) or debug
#   VERSION        the package version (default: Version.swift's version, revision 1)
#   OUTPUT         where the .deb goes (default .)
#   COMPRESSION    dpkg-deb's compressor: xz (default, the smallest) or gzip (faster)
#
# The layout comes from `make install PREFIX=/usr DESTDIR=...` (the same target
# operators use on other distributions). The binaries are stripped; the Swift
# runtime libraries they load from the toolchain are copied, stripped, to
# /usr/lib/tenantsync and the binaries' RUNPATH points there, so the package
# runs on a Debian 12 without Swift. Prints the path of the package.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CONFIGURATION=${CONFIGURATION:-release}
BUILDDIR=${BUILDDIR:-.build/$CONFIGURATION}
OUTPUT=${OUTPUT:-.}
COMPRESSION=${COMPRESSION:-xz}
UPSTREAM=$(sed -n 's/.*static let current = "\(.*\)".*/\1/p' "$ROOT/Sources/TenantSyncCore/Version.swift")
VERSION=${VERSION:-$UPSTREAM-1}
PACKAGE=tenantsync
PRIVATE_LIBDIR=usr/lib/$PACKAGE

die() { echo "build-deb: $*" >&2; exit 1; }
for tool in dpkg-deb dpkg-shlibdeps patchelf strip readelf gzip; do
    command -v "$tool" >/dev/null || die "$tool is missing (bash scripts/ensure-deps.sh installs dpkg-dev, patchelf and binutils)"
done
case "$BUILDDIR" in /*) ;; *) BUILDDIR=$ROOT/$BUILDDIR ;; esac
mkdir -p "$OUTPUT"
OUTPUT=$(cd "$OUTPUT" && pwd)
[[ "$VERSION" =~ ^[0-9][A-Za-z0-9.+~]*-[A-Za-z0-9.+~]+$ ]] \
    || die "VERSION=$VERSION is not UPSTREAM-REVISION (e.g. 0.1.0-1): the package is not a native one"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tenantsync-deb.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# dpkg-shlibdeps recognises debian/<package>/ as the tree of the package being built
# (its private libraries are then resolved there, not looked up in other packages).
STAGE=$WORK/debian/$PACKAGE
mkdir -p "$STAGE"

# ------------------------------------------------------------------- files ---
make -C "$ROOT" --no-print-directory install DESTDIR="$STAGE" PREFIX=/usr \
    CONFIGURATION="$CONFIGURATION" BUILDDIR="$BUILDDIR" PROGRAMS="tenantsyncd tenantsyncctl" >"$WORK/install.log" 2>&1 \
    || { cat "$WORK/install.log" >&2; die "make install into the staging tree failed"; }

DOCDIR=$STAGE/usr/share/doc/$PACKAGE
install -m 0644 "$ROOT/packaging/deb/copyright" "$DOCDIR/copyright"
# The Debian changelog; a version not in it (a local or test build) gets an entry saying so.
{
    if ! head -n1 "$ROOT/packaging/deb/changelog" | grep -qF "($VERSION)"; then
        printf '%s (%s) unstable; urgency=medium\n\n  * Local build from a checkout, not a release.\n\n -- %s  %s\n\n' \
            "$PACKAGE" "$VERSION" "tenantsync maintainers <maintainers@users.noreply.h-seed-623f4f4d.example>" \
            "$(date -R -u -d "@$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || date +%s)")"
    fi
    cat "$ROOT/packaging/deb/changelog"
} | gzip -9n > "$DOCDIR/changelog.Debian.gz"
chmod 0644 "$DOCDIR/changelog.Debian.gz"
install -d "$STAGE/usr/share/lintian/overrides"
install -m 0644 "$ROOT/packaging/deb/lintian-overrides" "$STAGE/usr/share/lintian/overrides/$PACKAGE"

# ------------------------------------------------- Swift runtime, stripped ---
# The libraries ldd resolves outside the system's library directories are the
# toolchain's (RUNPATH /opt/swift/...): copy them, and theirs, privately.
mkdir -p "$STAGE/$PRIVATE_LIBDIR"
is_system_lib() { case "$1" in /lib/*|/usr/lib/*|/lib64/*) return 0 ;; *) return 1 ;; esac; }
for binary in "$STAGE"/usr/bin/*; do
    while read -r name arrow path _; do
        [ "$arrow" = "=>" ] || continue
        [ "$path" != "not" ] || die "$(basename "$binary") needs $name, which ldd cannot find"
        is_system_lib "$path" && continue
        [ -e "$STAGE/$PRIVATE_LIBDIR/$name" ] || install -m 0644 "$(readlink -f "$path")" "$STAGE/$PRIVATE_LIBDIR/$name"
    done < <(ldd "$binary")
done
for binary in "$STAGE"/usr/bin/*; do
    strip --strip-unneeded --remove-section=.comment --remove-section=.note "$binary"
    patchelf --set-rpath "\$ORIGIN/../lib/$PACKAGE" "$binary"
done
for library in "$STAGE/$PRIVATE_LIBDIR"/*.so*; do
    strip --strip-unneeded --remove-section=.comment --remove-section=.note "$library"
    patchelf --set-rpath '$ORIGIN' "$library"
done
# Nothing may still point into the toolchain.
for file in "$STAGE"/usr/bin/* "$STAGE/$PRIVATE_LIBDIR"/*; do
    if readelf -d "$file" | grep -E 'R(UN)?PATH' | grep -q /opt/swift; then die "$file still has a RUNPATH into /opt/swift"; fi
done

# ------------------------------------------------------------------ DEBIAN ---
ARCH=$(dpkg --print-architecture)
mkdir -p "$WORK/debian" "$STAGE/DEBIAN"
cat > "$WORK/debian/control" <<EOF
Source: $PACKAGE

Package: $PACKAGE
Architecture: $ARCH
EOF
# Shared library dependencies of the binaries and the bundled libraries (libsqlite3-0,
# libsystemd0, libc6, libstdc++6, zlib, ...); the bundled ones are part of this package.
(cd "$WORK" && dpkg-shlibdeps -T"debian/$PACKAGE.substvars" -l"$STAGE/$PRIVATE_LIBDIR" \
    "$STAGE"/usr/bin/* "$STAGE/$PRIVATE_LIBDIR"/*.so* 2>"$WORK/shlibdeps.log") \
    || { cat "$WORK/shlibdeps.log" >&2; die "dpkg-shlibdeps failed"; }
DEPENDS=$(sed -n 's/^shlibs:Depends=//p' "$WORK/debian/$PACKAGE.substvars")
[ -n "$DEPENDS" ] || die "dpkg-shlibdeps found no dependencies"
# The maintainer scripts call systemd-sysusers, journalctl and deb-systemd-helper.
DEPENDS="$DEPENDS, systemd (>= 247), init-system-helpers (>= 1.58), passwd"

sed -e "s|@VERSION@|$VERSION|" -e "s|@ARCH@|$ARCH|" -e "s|@DEPENDS@|$DEPENDS|" \
    -e "s|@INSTALLED_SIZE@|$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)|" \
    "$ROOT/packaging/deb/control.in" > "$STAGE/DEBIAN/control"
for script in postinst prerm postrm; do
    install -m 0755 "$ROOT/packaging/deb/$script" "$STAGE/DEBIAN/$script"
done
(cd "$STAGE" && find etc -type f -printf '/%p\n' | sort) > "$STAGE/DEBIAN/conffiles"
(cd "$STAGE" && find usr -type f -print0 | sort -z | xargs -0 md5sum) > "$STAGE/DEBIAN/md5sums"
chmod 0644 "$STAGE/DEBIAN/control" "$STAGE/DEBIAN/conffiles" "$STAGE/DEBIAN/md5sums"
find "$STAGE" -type d -exec chmod 0755 {} +

DEB=$OUTPUT/${PACKAGE}_${VERSION}_${ARCH}.deb
dpkg-deb --root-owner-group -Z"$COMPRESSION" --build "$STAGE" "$DEB" >/dev/null
echo "$DEB"
