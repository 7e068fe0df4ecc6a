#!/usr/bin/env bash
# store/s3 Put and Open throughput against a plain minio-go PutObject/GetObject of the same
# bytes, on a MinIO server on 127.0.0.1 (make minio builds it). Prints MB/s and ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
export MINIO_BIN=${MINIO_BIN:-$HOME/.cache/airgap/bin/minio}
out=$(go test -run '^$' -bench 'Put|Open|Baseline' -benchtime 10x ./store/s3/)
echo "$out" | grep -E '^Benchmark'
mbs() { echo "$out" | awk -v n="$1" '$1 ~ "^"n"(-[0-9]+)?$" {for (i=1;i<=NF;i++) if ($(i+1)=="MB/s") print $i}'; }
put=$(mbs BenchmarkPutKnownDigest); putu=$(mbs BenchmarkPutUnknownDigest); base=$(mbs BenchmarkBaselinePutObject)
get=$(mbs BenchmarkOpen); baseget=$(mbs BenchmarkBaselineGetObject)
printf 'Put (digest known)   / minio-go PutObject: %.2f\n' "$(echo "$put / $base" | bc -l)"
printf 'Put (digest unknown) / minio-go PutObject: %.2f\n' "$(echo "$putu / $base" | bc -l)"
printf 'Open+read            / minio-go GetObject: %.2f\n' "$(echo "$get / $baseget" | bc -l)"
