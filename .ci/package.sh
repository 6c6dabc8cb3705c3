#!/usr/bin/env bash
# Builds the Debian package, installs it on this machine and checks what a
# shop owner gets: the service user, the files' owners and modes, the unit,
# removal and purge. Run as root by .ci/run after the tests; safe to run
# again (it purges a previous install first). Prints one PASS/FAIL line per
# check and exits non-zero if any fails.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_DEB_VERSION=3.8.0
started=$(date +%s)
fail=0
pass() { echo "PASS $*"; }
failed() { echo "FAIL $*"; fail=1; }
check() { # check "what" command...
  local what=$1; shift
  if "$@"; then pass "$what"; else failed "$what"; fi
}

echo "== packaging tools"
need=()
command -v lintian >/dev/null || need+=(lintian)
command -v systemd-analyze >/dev/null || need+=(systemd)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
if [ "$(cargo deb --version 2>/dev/null | awk '{print $NF}')" != "$CARGO_DEB_VERSION" ]; then
  cargo install cargo-deb --version "$CARGO_DEB_VERSION" --locked
fi
cargo deb --version

echo "== build"
t0=$(date +%s)
cargo build --release --locked
cargo deb --no-build --strip
deb=$(ls -t target/debian/possync_*.deb | head -n1)
echo "built $deb in $(( $(date +%s) - t0 )) s"

echo "== install"
if dpkg-query -W possync >/dev/null 2>&1; then dpkg -P possync >/dev/null; fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "./$deb" >/dev/null

echo "== checks"
check "the possync user exists (sysusers)" bash -c 'getent passwd possync >/dev/null'
check "the possync group exists" bash -c 'getent group possync >/dev/null'
version=$(runuser -u possync -- /usr/bin/possync --version 2>&1 || true)
want="possync $(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)"
check "the binary runs as the possync user ($version)" test "$version" = "$want"
stat_is() { [ "$(stat -c '%a %U:%G' "$1")" = "$2" ]; }
check "/etc/possync/possync.toml is 640 root:possync" stat_is /etc/possync/possync.toml "640 root:possync"
check "/var/lib/possync is 700 possync:possync" stat_is /var/lib/possync "700 possync:possync"
check "/usr/bin/possync is 755 root:root" stat_is /usr/bin/possync "755 root:root"
# The agent, as its user, reads its config and writes its state directory.
doctor=$(runuser -u possync -- /usr/bin/possync --config /etc/possync/possync.toml doctor || true)
echo "$doctor" | sed 's/^/    /'
check "possync doctor (as possync) reads the config" grep -qE '^ok +config_file +mode 640' <<<"$doctor"
check "possync doctor (as possync) writes /var/lib/possync" grep -qE '^ok +data_dir ' <<<"$doctor"
verify=$(systemd-analyze verify /usr/lib/systemd/system/possync.service 2>&1) && ok=1 || ok=0
[ -n "$verify" ] && echo "$verify" | sed 's/^/    /'
check "systemd-analyze verify accepts the unit" test "$ok" = 1 -a -z "$verify"
check "the unit can write the state directory (StateDirectory, ReadWritePaths)" \
  grep -qx 'ReadWritePaths=/var/lib/possync' /usr/lib/systemd/system/possync.service
lint=$(lintian --fail-on error,warning --suppress-tags-from-file /dev/null "$deb" 2>&1) && ok=1 || ok=0
[ -n "$lint" ] && echo "$lint" | sed 's/^/    /'
check "lintian: no error or warning left (others overridden with a reason)" test "$ok" = 1

echo "== remove and purge"
runuser -u possync -- sh -c 'echo sale > /var/lib/possync/replica.db'
echo "# edited by the shop" >> /etc/possync/possync.toml
dpkg -r possync >/dev/null
check "dpkg -r removes the binary" test ! -e /usr/bin/possync
check "dpkg -r keeps the data" test "$(cat /var/lib/possync/replica.db 2>/dev/null)" = sale
check "dpkg -r keeps the edited config" grep -q "edited by the shop" /etc/possync/possync.toml
dpkg -P possync >/dev/null
check "dpkg -P removes the config" test ! -e /etc/possync/possync.toml
check "dpkg -P keeps the data (sales not yet sent)" test -e /var/lib/possync/replica.db
rm -rf /var/lib/possync

echo "== packaging stage took $(( $(date +%s) - started )) s"
[ "$fail" = 0 ]
