#!/bin/sh
# Moves what `murmur provision` put on the boot partition into place, then deletes it there:
#   murmur.yaml    -> /etc/murmur/murmur.yaml  (0644 root)
#   fleet.key      -> /etc/murmur/fleet.key    (0600 murmur)
#   murmur-state/* -> /var/lib/murmur/         (0600 murmur; the directory 0700)
# The boot partition is FAT: anyone who holds the card (or any user on the Pi, as it is
# mounted world-readable) can read it, so the keys must not stay there. Each file is copied,
# synced and renamed into place before the original is deleted, so a power cut at any point
# leaves one whole copy. MURMUR_BOOT_DIR, MURMUR_ETC_DIR, MURMUR_STATE_DIR and MURMUR_USER
# point it elsewhere (tests, images built in a chroot).
set -eu
umask 077

BOOT="${MURMUR_BOOT_DIR:-/boot/firmware}"
ETC="${MURMUR_ETC_DIR:-/etc/murmur}"
STATE="${MURMUR_STATE_DIR:-/var/lib/murmur}"
USER="${MURMUR_USER:-murmur}"

if id "$USER" >/dev/null 2>&1; then
  OWNER="$USER:$(id -gn "$USER")"
else
  OWNER=""
  echo "murmur-firstboot: no user $USER; files stay owned by $(id -un)" >&2
fi

# move SRC DST MODE OWNED: OWNED is "murmur" for files only the service may read.
move() {
  tmp="$2.firstboot-$$"
  cp "$1" "$tmp"
  chmod "$3" "$tmp"
  if [ "$4" = murmur ] && [ -n "$OWNER" ]; then chown "$OWNER" "$tmp"; fi
  sync "$tmp"
  mv -f "$tmp" "$2"
  sync "$(dirname "$2")"
  rm -f "$1"
  echo "murmur-firstboot: moved $1 to $2 ($3${4:+ $4})"
}

moved=0
if [ -f "$BOOT/murmur.yaml" ] || [ -f "$BOOT/fleet.key" ]; then
  mkdir -p "$ETC"
  chmod 0755 "$ETC"
fi
if [ -f "$BOOT/murmur.yaml" ]; then
  move "$BOOT/murmur.yaml" "$ETC/murmur.yaml" 0644 root
  moved=$((moved + 1))
fi
if [ -f "$BOOT/fleet.key" ]; then
  move "$BOOT/fleet.key" "$ETC/fleet.key" 0600 murmur
  moved=$((moved + 1))
fi
if [ -d "$BOOT/murmur-state" ]; then
  mkdir -p "$STATE"
  chmod 0700 "$STATE"
  if [ -n "$OWNER" ]; then chown "$OWNER" "$STATE"; fi
  for f in "$BOOT"/murmur-state/*; do
    [ -f "$f" ] || continue
    move "$f" "$STATE/$(basename "$f")" 0600 murmur
    moved=$((moved + 1))
  done
  rmdir "$BOOT/murmur-state"
fi
sync "$BOOT" 2>/dev/null || sync
echo "murmur-firstboot: $moved file(s) moved from $BOOT"
