#!/bin/sh
# Installs murmur from this tarball on a machine without dpkg, as the .deb would: the code in
# $PREFIX/lib/murmur, the command $PREFIX/bin/murmur, the systemd units in /etc/systemd/system,
# /etc/murmur/murmur.yaml (kept when it exists), the murmur user and /var/lib/murmur.
# Run as root. PREFIX defaults to /usr/local; DESTDIR installs into another root (no service
# is started then). ./install.sh --uninstall removes the code, command and units again and
# keeps the config and state.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
PREFIX="${PREFIX:-/usr/local}"
DESTDIR="${DESTDIR:-}"
LIB="$PREFIX/lib/murmur"
UNITS=/etc/systemd/system

systemd_running() { [ -z "$DESTDIR" ] && [ -d /run/systemd/system ]; }

if [ "${1:-}" = --uninstall ]; then
  if systemd_running; then
    systemctl disable --now murmur.service murmur-firstboot.service || true
  else
    systemctl --root="${DESTDIR:-/}" disable murmur.service murmur-firstboot.service 2>/dev/null || true
  fi
  rm -rf "$DESTDIR$LIB"
  rm -f "$DESTDIR$PREFIX/bin/murmur" "$DESTDIR$UNITS/murmur.service" "$DESTDIR$UNITS/murmur-firstboot.service" "$DESTDIR/etc/udev/rules.d/60-murmur.rules"
  if systemd_running; then systemctl daemon-reload; fi
  echo "murmur removed; /etc/murmur, /var/lib/murmur and the murmur user are kept"
  exit 0
fi

if [ -z "$DESTDIR" ]; then
  if ! command -v node >/dev/null 2>&1; then
    echo "install.sh: node not found; murmur needs Node.js 20 or later (README \"Install\")" >&2
    exit 1
  fi
  major=$(node -p 'process.versions.node.split(".")[0]')
  if [ "$major" -lt 20 ]; then
    echo "install.sh: node $(node --version) is too old; murmur needs Node.js 20 or later (README \"Install\")" >&2
    exit 1
  fi
fi

prev=$(cat "$DESTDIR$LIB/.installed" 2>/dev/null || true)
mkdir -p "$DESTDIR$PREFIX/lib" "$DESTDIR$PREFIX/bin" "$DESTDIR$UNITS" "$DESTDIR/etc/murmur" "$DESTDIR/etc/udev/rules.d"
rm -rf "$DESTDIR$LIB.new"
cp -R "$HERE/lib/murmur" "$DESTDIR$LIB.new"
rm -rf "$DESTDIR$LIB"
mv "$DESTDIR$LIB.new" "$DESTDIR$LIB"
ln -sf "$LIB/dist/runtime/cli/bin.js" "$DESTDIR$PREFIX/bin/murmur"
for unit in murmur.service murmur-firstboot.service; do
  sed -e "s#/usr/bin/murmur#$PREFIX/bin/murmur#g" -e "s#/usr/lib/murmur/#$LIB/#g" "$HERE/systemd/$unit" > "$DESTDIR$UNITS/$unit"
  chmod 0644 "$DESTDIR$UNITS/$unit"
done
cp "$HERE/udev/60-murmur.rules" "$DESTDIR/etc/udev/rules.d/60-murmur.rules"
if [ -e "$DESTDIR/etc/murmur/murmur.yaml" ]; then
  echo "install.sh: keeping /etc/murmur/murmur.yaml"
else
  install -m 0644 "$HERE/murmur.yaml" "$DESTDIR/etc/murmur/murmur.yaml"
fi
# The user, groups, state directory and service, exactly as the .deb's postinst makes them.
DPKG_ROOT="$DESTDIR" sh "$HERE/maintainer/postinst" configure "$prev"
cat "$HERE/VERSION" > "$DESTDIR$LIB/.installed"
echo "murmur $(cat "$HERE/VERSION") installed in $LIB"
