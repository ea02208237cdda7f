#!/usr/bin/env bash
# package-build.sh TREE: makes the Debian packages of the build tree TREE with CPack into
# TREE/packages, and prints each one's name, size and Depends line.
set -euo pipefail
tree=$1
fail() { echo "package-build: $*" >&2; exit 1; }
grep -q '^CMAKE_INSTALL_PREFIX:PATH=/usr$' "$tree/CMakeCache.txt" ||
  fail "$tree is not configured with -DCMAKE_INSTALL_PREFIX=/usr (scripts/build.sh release does that)"
command -v dpkg-shlibdeps >/dev/null || fail "dpkg-shlibdeps is missing: install dpkg-dev (scripts/install-deps.sh)"
rm -rf "$tree/packages"
(cd "$tree" && cpack -G DEB --config CPackConfig.cmake >cpack.log 2>&1) ||
  { cat "$tree/cpack.log" >&2; fail "cpack failed"; }
for name in imsakad imsaka-lab; do
  deb=$(compgen -G "$tree/packages/${name}_*.deb") || fail "no ${name}_*.deb was made"
  [[ $(basename "$deb") =~ ^${name}_[0-9.]+_$(dpkg --print-architecture)\.deb$ ]] ||
    fail "unexpected file name $(basename "$deb")"
  echo "$(basename "$deb"): $(stat -c %s "$deb") bytes, installed size $(dpkg-deb -f "$deb" Installed-Size) KiB"
  echo "  Depends: $(dpkg-deb -f "$deb" Depends)"
done
