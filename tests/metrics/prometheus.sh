#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# `vfio-launch metrics` checked by the real Prometheus tools:
#   1. the printed text passes `promtool check metrics`;
#   2. `metrics --listen 127.0.0.1:P1` answers GET /metrics (200, the same
#      names) and nothing else (404);
#   3. a real `prometheus` on 127.0.0.1:P2 (a temp config, a temp TSDB)
#      scrapes it, and its query API returns the VM's series;
#   4. SIGTERM stops the server cleanly (exit status 0).
#
#   prometheus.sh VFIO_LAUNCH [NAME]
# NAME: a running VM (tests/lifecycle's `top` case). Without it the test
# makes a stand-in VM (fake-vm.py: a control socket in /run/vfio-launch
# that answers `status`), which needs root.
# Everything started here listens on loopback only, is stopped by its PID on
# exit, and stops by itself within 2 minutes if this script is killed.
# Exit: 0 pass, 1 fail, 77 skipped (a "SKIP: reason" line says why).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
VL=${1:?usage: prometheus.sh VFIO_LAUNCH [NAME]}
NAME=${2:-}
RUN_DIR=/run/vfio-launch
for t in promtool prometheus curl python3; do
        command -v "$t" >/dev/null || { echo "SKIP: $t is not installed (Debian: prometheus, curl)"; exit 77; }
done
T=$(mktemp -d /tmp/vl-metrics.XXXXXX)
pids=()
cleanup() {
        local p
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
        for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
        rm -rf "$T"
}
trap cleanup EXIT
fails=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

if [ -z "$NAME" ]; then
        [ "$(id -u)" = 0 ] || { echo "SKIP: the stand-in VM's control socket is in $RUN_DIR (root's)"; exit 77; }
        NAME=metrics-fake-$$
        coproc FAKE { exec "$here/fake-vm.py" "$RUN_DIR" "$NAME"; }
        pids+=("$FAKE_PID")
        read -r -t 10 line <&"${FAKE[0]}" && [ "$line" = ready ] || { echo "FAIL: fake-vm.py did not start"; exit 1; }
fi

# 1. the text format, by the format's own checker
"$VL" metrics "$NAME" > "$T/metrics.txt" 2> "$T/metrics.err"
check "metrics $NAME → exit status 0" test $? = 0
check "metrics names $NAME" grep -q "^vfio_launch_vm_running{vm=\"$NAME\"} 1$" "$T/metrics.txt"
check "promtool check metrics passes" promtool check metrics < "$T/metrics.txt"
"$VL" metrics no-such-vm-$$ > /dev/null 2> "$T/err"
check "metrics NAME of no VM → exit status 1" test $? = 1

# 2. the HTTP server
P1=$(free_port)
"$VL" metrics --listen "127.0.0.1:$P1" "$NAME" 2> "$T/serve.err" &
SPID=$!
pids+=("$SPID")
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$P1/metrics" && break; sleep 0.1; done
check "GET /metrics → 200 with the VM's series" \
        bash -c "curl -sf http://127.0.0.1:$P1/metrics | grep -q '^vfio_launch_vm_running{vm=\"$NAME\"} 1'"
check "GET /other → 404" test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P1/other")" = 404
check "POST /metrics → 404" test "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$P1/metrics")" = 404
check "a 16 KiB request head → 431" \
        test "$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 16384 /dev/zero | tr '\0' a)" "http://127.0.0.1:$P1/metrics")" = 431

# 3. a real Prometheus scrapes it
P2=$(free_port)
cat > "$T/prometheus.yml" <<EOC
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: vfio-launch
    static_configs:
      - targets: ["127.0.0.1:$P1"]
EOC
timeout 120 prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/data" \
        --web.listen-address="127.0.0.1:$P2" > "$T/prometheus.log" 2>&1 &
pids+=($!)
query() { # query PROMQL: the number of series in the answer
        curl -s -G --data-urlencode "query=$1" "http://127.0.0.1:$P2/api/v1/query" |
                python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["data"]["result"]) if d.get("status")=="success" else -1)' 2>/dev/null
}
got=0
for _ in $(seq 150); do
        got=$(query "vfio_launch_vm_running{vm=\"$NAME\"}")
        [ "${got:-0}" -ge 1 ] 2>/dev/null && break
        sleep 0.2
done
check "prometheus scraped vfio_launch_vm_running{vm=\"$NAME\"} ($got series)" test "${got:-0}" -ge 1 2>/dev/null
check "prometheus: the scrape is up" test "$(query "up{job=\"vfio-launch\"} == 1")" = 1
check "prometheus: vfio_launch_qemu_rss_bytes{vm=\"$NAME\"} is there" \
        test "$(query "vfio_launch_qemu_rss_bytes{vm=\"$NAME\"} > 0")" = 1
[ "$fails" = 0 ] || sed 's/^/prometheus: /' "$T/prometheus.log" | tail -20

# 4. SIGTERM stops the server cleanly
kill -TERM "$SPID"
wait "$SPID"
check "metrics --listen: SIGTERM → exit status 0" test $? = 0
echo "metrics: $fails failure(s)"
[ "$fails" = 0 ]
