#!/usr/bin/env bash
# Serving small files: `airgap serve` against nginx on the same files (N files of SIZE
# bytes), loaded by wrk on 127.0.0.1 with random paths; airgap also while another mirror
# publishes a new generation in a loop. Prints requests/s and p99 latency of each and the
# ratio airgap/nginx (goal >= 0.8). Needs nginx and wrk (Debian packages nginx-light, wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000}
SIZE=${SIZE:-2048}
SECONDS_PER_RUN=${DURATION:-10}
CONNS=${CONNS:-64}
for c in nginx wrk; do command -v "$c" >/dev/null || { echo "$c is required (apt-get install nginx-light wrk)" >&2; exit 1; }; done
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
go build -o "$work/airgap" ./examples/airgap

mkdir -p "$work/files"
chmod 755 "$work" # nginx workers run as an unprivileged user
{
	echo "store: store"
	echo "files:"
	echo "  - name: small"
	echo "    urls:"
	for i in $(seq 1 "$N"); do
		head -c "$SIZE" /dev/urandom > "$work/files/f$i"
		echo "      - \"$work/files/f$i?checksum=sha256:$(sha256sum "$work/files/f$i" | cut -d' ' -f1)\""
	done
	echo "  - name: churn"
	echo "    insecure: true"
	echo "    urls: [\"$work/churn.txt\"]"
} > "$work/airgap.yaml"
echo 0 > "$work/churn.txt"
"$work/airgap" --config "$work/airgap.yaml" --log-level warn sync > /dev/null

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_up() { for _ in $(seq 100); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done; echo "not up: $1" >&2; exit 1; }

ag_port=$(free_port)
"$work/airgap" --config "$work/airgap.yaml" serve --listen "127.0.0.1:$ag_port" 2> "$work/airgap-access.log" &
pids+=($!)
ngx_port=$(free_port)
cat > "$work/nginx.conf" <<EOF
worker_processes $(nproc);
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
	access_log $work/nginx-access.log;
	sendfile on; tcp_nopush on; keepalive_requests 100000;
	default_type application/octet-stream;
	server { listen 127.0.0.1:$ngx_port; root $work/files; }
}
EOF
nginx -c "$work/nginx.conf" -g 'daemon off;' &
pids+=($!)
wait_up "http://127.0.0.1:$ag_port/files/small/f1"
wait_up "http://127.0.0.1:$ngx_port/f1"

cat > "$work/random.lua" <<EOF
math.randomseed(os.time())
request = function() return wrk.format("GET", wrk.path .. math.random($N)) end
EOF
# load URL-PREFIX: prints "req/s p99-ms"
load() {
	wrk -t2 -c"$CONNS" -d"${SECONDS_PER_RUN}s" --latency -s "$work/random.lua" "$1" > "$work/wrk.out"
	local rps p99
	rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.out")
	p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}' "$work/wrk.out")
	if grep -q "Non-2xx" "$work/wrk.out"; then echo "non-2xx answers:" >&2; cat "$work/wrk.out" >&2; exit 1; fi
	echo "$rps $p99"
}

read -r ngx ngx99 < <(load "http://127.0.0.1:$ngx_port/f")
read -r ag ag99 < <(load "http://127.0.0.1:$ag_port/files/small/f")
# The same while the other mirror publishes as fast as it can.
( i=0; while :; do i=$((i+1)); echo "$i" > "$work/churn.txt"; "$work/airgap" --config "$work/airgap.yaml" --log-level error sync files/churn > /dev/null 2>&1; done ) &
pids+=($!)
read -r agp agp99 < <(load "http://127.0.0.1:$ag_port/files/small/f")

printf '%d files of %d bytes, %d connections, %ds each, %d cores\n' "$N" "$SIZE" "$CONNS" "$SECONDS_PER_RUN" "$(nproc)"
printf '%-34s %10s req/s  p99 %7s ms\n' "nginx" "$ngx" "$ngx99"
printf '%-34s %10s req/s  p99 %7s ms\n' "airgap serve" "$ag" "$ag99"
printf '%-34s %10s req/s  p99 %7s ms\n' "airgap serve, publishing meanwhile" "$agp" "$agp99"
printf 'ratio airgap/nginx: %.2f (%.2f while publishing)\n' "$(echo "$ag / $ngx" | bc -l)" "$(echo "$agp / $ngx" | bc -l)"
