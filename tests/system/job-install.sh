#!/bin/bash
# Guest job (system-run.sh): installs the tree that `cmake --install` put in ./stage the way
# an administrator would (README: files in place, sysusers, daemon-reload, bus reload), then
# runs the service checks of checks.sh.
set -u
# Debian's /lib is a link to usr/lib: unpack over the links, not in place of them (and not
# ".", whose mode would become that of /).
(cd stage && tar -c -- *) | tar -C / -x --keep-directory-symlink
systemd-sysusers
systemctl daemon-reload
busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ReloadConfig

. ./checks.sh
run_service_checks
echo "system checks (cmake --install): $failures failed"
[ "$failures" = 0 ]
