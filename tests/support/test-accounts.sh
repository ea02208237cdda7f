#!/usr/bin/env bash
# test-accounts.sh DIR
# Adds the tests' user accounts to copies of /etc/passwd and /etc/group kept in DIR and
# binds the copies over the originals, so that dbus-daemon (the bus policy names group
# imsaka), imsakad and the tests' child processes all see them. Only inside a private mount
# namespace: only where pcsc-sandbox.sh's namespace is the current one (it exports
# IMSAKA_SANDBOX_MOUNT_NS), so the host's view of /etc is never changed. Idempotent.
#
#   imsaka-member    uid 64101, a member of group imsaka
#   imsaka-member2   uid 64102, a member of group imsaka
#   imsaka-outsider  uid 64103, not a member
#
# Group imsaka keeps its gid when the system has one, else it is 64100. Primary group of the
# three: nogroup (65534).
set -euo pipefail
dir=${1:?usage: test-accounts.sh DIR}

here=$(readlink /proc/self/ns/mnt || true)
if [ -z "${IMSAKA_SANDBOX_MOUNT_NS:-}" ] || [ "$here" != "$IMSAKA_SANDBOX_MOUNT_NS" ]; then
  echo "test-accounts: refusing to bind over /etc/passwd outside the private mount namespace" \
       "of tests/integration/pcsc-sandbox.sh (run inside it)" >&2
  exit 1
fi

accounts=(imsaka-member:64101 imsaka-member2:64102 imsaka-outsider:64103)
members=imsaka-member,imsaka-member2

if getent passwd imsaka-member >/dev/null && getent group imsaka | grep -q imsaka-member2; then
  exit 0  # already bound in this namespace
fi

cp /etc/passwd "$dir/passwd"
cp /etc/group "$dir/group"
chmod 0644 "$dir/passwd" "$dir/group"
for entry in "${accounts[@]}"; do
  name=${entry%%:*} uid=${entry##*:}
  if cut -d: -f3 /etc/passwd | grep -qx "$uid"; then
    echo "test-accounts: uid $uid is taken on this system; the tests need it free for $name" >&2
    exit 1
  fi
  echo "$name:x:$uid:65534:imsaka test account:/nonexistent:/usr/sbin/nologin" >>"$dir/passwd"
done
if grep -q '^imsaka:' "$dir/group"; then
  # Append to the existing member list (which may be empty).
  sed -i -E "s/^(imsaka:[^:]*:[^:]*:)(.+)$/\\1\\2,$members/; s/^(imsaka:[^:]*:[^:]*:)$/\\1$members/" \
    "$dir/group"
else
  if cut -d: -f3 /etc/group | grep -qx 64100; then
    echo "test-accounts: gid 64100 is taken on this system and there is no group imsaka" >&2
    exit 1
  fi
  echo "imsaka:x:64100:$members" >>"$dir/group"
fi
mount --bind "$dir/passwd" /etc/passwd
mount --bind "$dir/group" /etc/group
getent group imsaka | grep -q imsaka-member2 ||
  { echo "test-accounts: group imsaka does not list the members after binding" >&2; exit 1; }
