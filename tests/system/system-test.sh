#!/usr/bin/env bash
# system-test.sh install|package TREE SOURCE
# Boots the systemd guest (system-run.sh) and runs the checks of checks.sh on imsakad as
# installed from the build tree TREE (configured with -DCMAKE_INSTALL_PREFIX=/usr):
#   install  what `cmake --install` puts in place (DESTDIR), copied in as an administrator would
#   package  the packages of TREE/packages, installed with apt-get and purged at the end
set -euo pipefail
mode=$1 tree=$2 source=$3
here=$(cd "$(dirname "$0")" && pwd)
fail() { echo "system-test: $*" >&2; exit 1; }

grep -q '^CMAKE_INSTALL_PREFIX:PATH=/usr$' "$tree/CMakeCache.txt" ||
  fail "$tree is not configured with -DCMAKE_INSTALL_PREFIX=/usr (scripts/build.sh release does that)"
pcscf=$tree/tests/system/pcscf/system_pcscf
[ -x "$pcscf" ] || fail "$pcscf is missing: build the tree (scripts/build.sh release)"

scratch=$(mktemp -d "${IMSAKA_UML_WORKDIR:-/var/tmp}/imsaka-system-files.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
files=("$here/checks.sh" "$pcscf" "$source/tools/vicc/profiles/default.ini")
case "$mode" in
  install)
    job=$here/job-install.sh
    DESTDIR=$scratch/stage cmake --install "$tree" >/dev/null
    files+=("$scratch/stage") ;;
  package)
    job=$here/job-package.sh
    compgen -G "$tree/packages/imsakad_*.deb" >/dev/null ||
      fail "no package in $tree/packages: the test package_build makes them"
    files+=("$tree"/packages/imsakad_*.deb "$tree"/packages/imsaka-lab_*.deb) ;;
  *) fail "usage: system-test.sh install|package TREE SOURCE" ;;
esac
status=0
"$here/system-run.sh" --mem 768M --timeout 800 "$job" "${files[@]}" || status=$?
exit "$status"
