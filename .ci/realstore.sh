#!/usr/bin/env bash
# The contract stage: a real WordPress + WooCommerce store from
# ../shared/realstore (installed by its up.sh: Apache, PHP, MariaDB from
# Debian; ~60 s on a fresh machine, ~3 s when already up), then the contract
# suite against it. Runs as root on Debian 12 from a clean checkout.
set -euo pipefail
cd "$(dirname "$0")/.."

shared=${REALSTORE_DIR:-../shared/realstore}
root=${REALSTORE_ROOT:-/srv/woo}
started=$(date +%s)
trap 'echo "contract stage: $(( $(date +%s) - started )) s"' EXIT

echo "== real store (bash $shared/up.sh)"
line=$(bash "$shared/up.sh")
read -r url ck cs <<<"$line"
[ -n "${cs:-}" ] || { echo "up.sh printed no \"URL CK CS\" line"; exit 1; }
echo "store at $url (up in $(( $(date +%s) - started )) s)"
export POSSYNC_CONTRACT_STORE="$url $ck $cs"

# A read-only key for the read-only-key-on-a-write case (replaced each run).
# The helper is copied where the web server's user can read it.
helper=$(mktemp -d)
cp .ci/realstore-read-key.php "$helper/"
chmod -R a+rX "$helper"
if ro=$(cd "$root/www" && runuser -u www-data -- env REALSTORE_SITE="$url" \
    php "$helper/realstore-read-key.php" "$root/www" 2>/dev/null | tail -1) && [ -n "$ro" ]; then
  export POSSYNC_CONTRACT_READ_ONLY_KEY="$ro"
else
  echo "note: no read-only key could be made; that case will say it is skipped"
fi
rm -rf "$helper"

echo "== contract suite (cargo test --test contract)"
cargo test --test contract
