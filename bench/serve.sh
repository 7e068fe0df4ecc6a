#!/usr/bin/env bash
# Serving files: `airgap serve` against nginx on the same files, for each size of SIZES
# (bytes; N files of each, fewer of the large ones so that a size holds at most 200 MiB),
# loaded by wrk on 127.0.0.1 with random paths, keep-alive. Both serve from disk (nginx
# with sendfile, its default of one worker per core; airgap with its access log like
# nginx's). RUNS rounds, each loading nginx and airgap, then both again while another
# mirror publishes a new generation in a loop, back to back (the machine may be shared: the
# median of the rounds is what counts). Prints req/s and p99 latency (medians) and the
# median of the rounds' airgap/nginx ratios (goal >= 0.8), and each server's CPU time
# per request, which other load on the machine skews less (wrk shares the cores, so
# req/s follows the sum of wrk's and the server's cost per request). PIN (e.g. "taskset -c 1")
# runs both servers the same way. Needs nginx and wrk (Debian packages nginx-light, wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000}
SIZES=${SIZES:-1024 102400 10485760}
SECONDS_PER_RUN=${DURATION:-10}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
RUNS=${RUNS:-3}
PIN=${PIN:-}
for c in nginx wrk; do command -v "$c" >/dev/null || { echo "$c is required (apt-get install nginx-light wrk)" >&2; exit 1; }; done
work=$(mktemp -d)
pids=()
churn=""
cleanup() { for p in "${pids[@]}" $churn; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
go build -o "$work/airgap" ./examples/airgap

count() { echo $(( $1 * N > 200 * 1048576 ? 200 * 1048576 / $1 : N )); }
chmod 755 "$work" # nginx workers run as an unprivileged user
{
	echo "store: store"
	# wrk is one client; a run's connections may open before the last run's have closed.
	echo "serve: {max_conns_per_client: $((CONNS * 4))}"
	echo "files:"
	for size in $SIZES; do
		mkdir -p "$work/files/s$size"
		echo "  - name: s$size"
		echo "    urls:"
		for i in $(seq 1 "$(count "$size")"); do
			f="$work/files/s$size/f$i"
			head -c "$size" /dev/urandom > "$f"
			echo "      - \"$f?checksum=sha256:$(sha256sum "$f" | cut -d' ' -f1)\""
		done
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
$PIN "$work/airgap" --config "$work/airgap.yaml" serve --listen "127.0.0.1:$ag_port" 2> "$work/airgap-access.log" &
ag_pid=$!
pids+=($ag_pid)
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
$PIN nginx -c "$work/nginx.conf" -g 'daemon off;' &
ngx_pid=$!
pids+=($ngx_pid)
first=${SIZES%% *}
wait_up "http://127.0.0.1:$ag_port/files/s$first/f1"
wait_up "http://127.0.0.1:$ngx_port/s$first/f1"

# CPU time (clock ticks) of a server: the process and its children (nginx's workers).
ticks() { local t=0 p; for p in "$1" $(pgrep -P "$1" || true); do t=$((t + $(cut -d' ' -f14,15 "/proc/$p/stat" | tr ' ' +))); done; echo "$t"; }
tck=$(getconf CLK_TCK)
# load URL-PREFIX FILES PID: prints "req/s p99-ms server-CPU-µs-per-request"
load() {
	cat > "$work/random.lua" <<EOF
math.randomseed(os.time())
request = function() return wrk.format("GET", wrk.path .. math.random($2)) end
EOF
	local t0 t1 rps p99 n
	t0=$(ticks "$3")
	wrk -t"$THREADS" -c"$CONNS" -d"${SECONDS_PER_RUN}s" --latency --timeout 30s -s "$work/random.lua" "$1" > "$work/wrk.out"
	t1=$(ticks "$3")
	rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.out")
	n=$(awk '/requests in/ {print $1}' "$work/wrk.out")
	p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}' "$work/wrk.out")
	if grep -q "Non-2xx" "$work/wrk.out"; then echo "non-2xx answers:" >&2; cat "$work/wrk.out" >&2; kill $$; fi
	grep "Socket errors" "$work/wrk.out" | sed "s|^|$1: |" >&2 || true
	echo "$rps $p99 $(echo "($t1 - $t0) * 1000000 / $tck / $n" | bc -l)"
}
median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }

# The other mirror publishes as fast as it can while publishing() is on.
publishing() {
	if [ "$1" = on ]; then
		( i=0; while :; do i=$((i+1)); echo "$i" > "$work/churn.txt"; "$work/airgap" --config "$work/airgap.yaml" --log-level error sync files/churn > /dev/null 2>&1; done ) &
		churn=$!
	else
		kill "$churn"; wait "$churn" 2>/dev/null || true
		churn=""
	fi
}

printf '%s files each size, %d connections, %d wrk threads, %ds each, %d rounds, %d cores%s\n' \
	"$N (at most 200 MiB)" "$CONNS" "$THREADS" "$SECONDS_PER_RUN" "$RUNS" "$(nproc)" "${PIN:+, servers under $PIN}"
printf '%-10s %-34s %10s %8s %12s\n' size server req/s "p99 ms" "CPU µs/req"
for size in $SIZES; do
	n=$(count "$size")
	: > "$work/rounds"
	for _ in $(seq "$RUNS"); do
		read -r ngx ngx99 ngxc < <(load "http://127.0.0.1:$ngx_port/s$size/f" "$n" "$ngx_pid")
		read -r ag ag99 agc < <(load "http://127.0.0.1:$ag_port/files/s$size/f" "$n" "$ag_pid")
		publishing on
		read -r ngxp ngxp99 ngxpc < <(load "http://127.0.0.1:$ngx_port/s$size/f" "$n" "$ngx_pid")
		read -r agp agp99 agpc < <(load "http://127.0.0.1:$ag_port/files/s$size/f" "$n" "$ag_pid")
		publishing off
		echo "$ngx $ngx99 $ngxc $ag $ag99 $agc $ngxp $ngxp99 $ngxpc $agp $agp99 $agpc $(echo "$ag / $ngx" | bc -l) $(echo "$agp / $ngxp" | bc -l)" >> "$work/rounds"
	done
	col() { awk -v c="$1" '{print $c}' "$work/rounds" | median; }
	printf '%-10s %-34s %10.0f %8.2f %12.1f\n' "$size" nginx "$(col 1)" "$(col 2)" "$(col 3)"
	printf '%-10s %-34s %10.0f %8.2f %12.1f\n' "$size" "airgap serve" "$(col 4)" "$(col 5)" "$(col 6)"
	printf '%-10s %-34s %10.0f %8.2f %12.1f\n' "$size" "nginx, publishing meanwhile" "$(col 7)" "$(col 8)" "$(col 9)"
	printf '%-10s %-34s %10.0f %8.2f %12.1f\n' "$size" "airgap serve, publishing meanwhile" "$(col 10)" "$(col 11)" "$(col 12)"
	printf '%-10s ratio airgap/nginx: %.2f (%.2f while publishing); rounds: %s\n' "$size" "$(col 13)" "$(col 14)" \
		"$(awk '{printf "%s%.2f", (NR > 1 ? " " : ""), $13}' "$work/rounds")"
done
