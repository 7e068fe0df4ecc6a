#!/usr/bin/env bash
# pypi: sync of one project whose simple page is SIZE bytes (default 60 MiB, the page of
# issue #19), JSON and HTML, by pypi.Mirror into a filesystem store, each in a process
# of its own: prints the time and the peak RSS of the syncing process.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${SIZE:-$((60 << 20))}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
go build -o "$work/pypibench" ./bench/cmd/pypibench
printf '%-6s %12s %8s %12s\n' format page-bytes seconds maxrss-MiB
for format in json html; do
	"$work/pypibench" serve -size "$SIZE" -format "$format" > "$work/url.$format" &
	pids+=($!)
	for _ in $(seq 100); do [ -s "$work/url.$format" ] && break; sleep 0.1; done
	url=$(head -n1 "$work/url.$format")
	bytes=$(curl -s "${url}big/" | wc -c)
	out=$("$work/pypibench" sync -url "$url" -store "$work/store.$format")
	secs=$(echo "$out" | awk '/^seconds/ {print $2}')
	rss=$(echo "$out" | awk '/^maxrss-kb/ {printf "%.1f", $2/1024}')
	printf '%-6s %12d %8s %12s\n' "$format" "$bytes" "$secs" "$rss"
done
