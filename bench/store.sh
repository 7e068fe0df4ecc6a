#!/usr/bin/env bash
# store.Put throughput against the machine's limit: sha256sum + cp of the same bytes.
# Prints seconds for each and the ratio (reference time / our time; >= 0.9 is the goal).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB=${SIZE_MB:-1024}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/putbench" ./bench/cmd/putbench
head -c "${SIZE_MB}M" /dev/urandom > "$work/src"
cat "$work/src" > /dev/null # warm the page cache for both sides

t0=$(date +%s.%N)
sha256sum "$work/src" > /dev/null
cp "$work/src" "$work/copy"
t1=$(date +%s.%N)
ref=$(echo "$t1 - $t0" | bc)
rm -f "$work/copy"

t0=$(date +%s.%N)
cp "$work/src" "$work/copy"; sync "$work/copy"; sha256sum "$work/src" > /dev/null
t1=$(date +%s.%N)
refsync=$(echo "$t1 - $t0" | bc)
rm -f "$work/copy"

ours=$("$work/putbench" -store "$work/s1" -nosync "$work/src")
oursync=$("$work/putbench" -store "$work/s2" "$work/src")

printf 'bytes: %d MiB\n' "$SIZE_MB"
printf 'sha256sum+cp        %6.3fs   airgap Put (no fsync) %6.3fs   ratio %.2f\n' "$ref" "$ours" "$(echo "$ref / $ours" | bc -l)"
printf 'sha256sum+cp+sync   %6.3fs   airgap Put (fsync)    %6.3fs   ratio %.2f\n' "$refsync" "$oursync" "$(echo "$refsync / $oursync" | bc -l)"
