#!/usr/bin/env bash
# store/fetch throughput: N files downloaded in parallel from a loopback file server, by
# store/fetch into a filesystem store (verified, sha256) and by N parallel `curl -s -o`.
# Prints the best of ROUNDS runs for each and the ratio curl_time / our_time (goal >= 0.9).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-16}
SIZE_MB=${SIZE_MB:-8}
ROUNDS=${ROUNDS:-3}
command -v curl >/dev/null || { echo "curl is required" >&2; exit 1; }
work=$(mktemp -d)
srv=
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
go build -o "$work/fileserver" ./bench/cmd/fileserver
go build -o "$work/fetchbench" ./bench/cmd/fetchbench
mkdir -p "$work/files"
for i in $(seq 1 "$N"); do head -c "${SIZE_MB}M" /dev/urandom > "$work/files/f$i"; done
cat "$work/files"/* > /dev/null # page cache

"$work/fileserver" -dir "$work/files" > "$work/url" &
srv=$!
for _ in $(seq 50); do [ -s "$work/url" ] && break; sleep 0.1; done
base=$(head -n1 "$work/url")

best() { sort -g | head -n1; }
curl_run() {
	rm -rf "$work/curl"; mkdir -p "$work/curl"
	local t0 t1 pids=()
	t0=$(date +%s.%N)
	for i in $(seq 1 "$N"); do curl -sf -o "$work/curl/f$i" "$base/f$i" & pids+=($!); done
	wait "${pids[@]}"
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc
}
# The same transfers in one curl process (--parallel): no process start-up per file.
curlz_run() {
	rm -rf "$work/curl"; mkdir -p "$work/curl"
	local t0 t1 args=()
	for i in $(seq 1 "$N"); do args+=(-o "$work/curl/f$i" "$base/f$i"); done
	t0=$(date +%s.%N)
	curl -sf --no-progress-meter -Z --parallel-max "$N" "${args[@]}"
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc
}
ours_run() {
	rm -rf "$work/store"
	"$work/fetchbench" -base "$base" -dir "$work/files" -store "$work/store" "$@"
}
# Interleave the rounds so that load changes hit both sides alike.
: > "$work/t_curl"; : > "$work/t_curlz"; : > "$work/t_ours"; : > "$work/t_sync"
for _ in $(seq 1 "$ROUNDS"); do
	curl_run >> "$work/t_curl"
	curlz_run >> "$work/t_curlz"
	ours_run -nosync >> "$work/t_ours"
	ours_run >> "$work/t_sync"
done
c=$(best < "$work/t_curl"); z=$(best < "$work/t_curlz"); o=$(best < "$work/t_ours"); s=$(best < "$work/t_sync")
mb=$((N * SIZE_MB))
printf 'files: %d x %d MiB = %d MiB, best of %d\n' "$N" "$SIZE_MB" "$mb" "$ROUNDS"
printf 'curl x%-3d            %6.3fs  %7.1f MiB/s\n' "$N" "$c" "$(echo "$mb / $c" | bc -l)"
printf 'curl -Z (1 process)  %6.3fs  %7.1f MiB/s  (reference: curl -Z time / our no-fsync time %.2f)\n' "$z" "$(echo "$mb / $z" | bc -l)" "$(echo "$z / $o" | bc -l)"
printf 'airgap fetch         %6.3fs  %7.1f MiB/s  ratio %.2f (no fsync)\n' "$o" "$(echo "$mb / $o" | bc -l)" "$(echo "$c / $o" | bc -l)"
printf 'airgap fetch (fsync) %6.3fs  %7.1f MiB/s  ratio %.2f\n' "$s" "$(echo "$mb / $s" | bc -l)" "$(echo "$c / $s" | bc -l)"
