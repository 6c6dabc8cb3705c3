#!/usr/bin/env bash
# Full pulls from a real WooCommerce store, from scratch, at a fixed 1, 2
# and 4 requests at once and at `auto`, while a probe fetches the shop's
# front page every 0.5 s (what its own shoppers wait). Each setting runs
# ROUNDS times, the settings alternating within a round; the front page is
# first probed for 15 s with nothing pulling.
#
#   cargo build --release
#   benches/realstore_pull.sh URL CK CS [ROUNDS]
#   # e.g. the large catalogue of ../shared/realstore (bulk-seed.php):
#   read -r URL CK CS < /srv/woo-bulk/realstore.env
#   benches/realstore_pull.sh "$URL" "$CK" "$CS" 2
#
# POSSYNC=path/to/possync picks another binary (default
# target/release/possync); SETTINGS="1 2 4 auto" the settings. Prints
# Markdown rows ready for docs/benchmarks.md. The shop's certificate is not
# checked (the local real store's is self-signed).
set -euo pipefail

if [ $# -lt 3 ]; then
    echo "usage: $0 URL CONSUMER_KEY CONSUMER_SECRET [ROUNDS]" >&2
    exit 64
fi
URL=${1%/}
CK=$2
CS=$3
ROUNDS=${4:-1}
BIN=${POSSYNC:-target/release/possync}
SETTINGS=${SETTINGS:-1 2 4 auto}
[ -x "$BIN" ] || { echo "no possync binary at $BIN (cargo build --release)" >&2; exit 66; }

WORK=$(mktemp -d)
PROBE_PID=
cleanup() {
    [ -n "$PROBE_PID" ] && kill "$PROBE_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# Appends the front page's answer time (seconds) to $1 every 0.5 s.
probe() {
    while :; do
        curl -sk -o /dev/null -w '%{time_total}\n' "$URL/" >>"$1" || true
        sleep 0.5
    done
}

start_probe() {
    : >"$1"
    probe "$1" &
    PROBE_PID=$!
}

stop_probe() {
    kill "$PROBE_PID" 2>/dev/null || true
    wait "$PROBE_PID" 2>/dev/null || true
    PROBE_PID=
}

# Median of the probe file, in ms.
p50() {
    sort -n "$1" | awk '{a[NR]=$1} END {if (NR == 0) print "nan"; else printf "%.0f", a[int((NR + 1) / 2)] * 1000}'
}

start_probe "$WORK/idle"
sleep 15
stop_probe
IDLE=$(p50 "$WORK/idle")
echo "front page with nothing pulling: p50 ${IDLE} ms ($(wc -l <"$WORK/idle") probes); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| round | concurrency | wall (s) | requests | front page p50 (ms) | × idle | probes | requests at once | load avg 1 min |"
echo "|---|---|---|---|---|---|---|---|---|"

for round in $(seq 1 "$ROUNDS"); do
    for setting in $SETTINGS; do
        dir="$WORK/run-$round-$setting"
        mkdir -p "$dir"
        if [ "$setting" = auto ]; then value='"auto"'; else value=$setting; fi
        cat >"$dir/possync.toml" <<EOF
data_dir = "$dir/data"
[store]
url = "$URL"
consumer_key = "$CK"
consumer_secret = "$CS"
verify_tls = false
timeout_secs = 120
[sync]
concurrency = $value
order_window_days = 0
EOF
        start_probe "$dir/probe"
        out=$(POSSYNC_LOG=error "$BIN" sync --full --quiet --config "$dir/possync.toml")
        stop_probe
        wall=$(echo "$out" | awk '/^pulled in/ {print $3}')
        requests=$(echo "$out" | awk '/^pulled in/ {print $6}')
        limit=$(echo "$out" | sed -n 's/^requests at once: //p')
        p=$(p50 "$dir/probe")
        ratio=$(awk -v p="$p" -v i="$IDLE" 'BEGIN {printf "%.2f", p / i}')
        echo "| $round | $setting | $wall | $requests | $p | $ratio | $(wc -l <"$dir/probe") | $limit | $(cut -d' ' -f1 /proc/loadavg) |"
        rm -rf "$dir/data"
    done
done
