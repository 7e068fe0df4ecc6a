#!/usr/bin/env bash
# Copy the same generated images (IMAGES images of 3-10 layers, about MB MiB in all) from
# one Debian docker-registry into a fresh one with: package oci (registry -> registry,
# and through a filesystem store), `crane copy` (go-containerregistry v0.22.1, one call
# per image) and `skopeo sync` (one call, YAML source). Then repeat each copy with
# nothing new. Prints seconds and ratios (peer time / our time; > 1 means we are faster).
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGES=${IMAGES:-20}
MB=${MB:-150}
work=$(mktemp -d)
. bench/lib.sh
cleanup() { kill_registries; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

go build -o "$work/ocibench" ./bench/cmd/ocibench
GOBIN="$work/bin" go install github.com/google/go-containerregistry/cmd/crane@v0.22.1
crane="$work/bin/crane"

now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc; }

src=$(registry src)
"$work/ocibench" gen -to "$src" -images "$IMAGES" -mb "$MB"
refs=(); for i in $(seq -f %02g 1 "$IMAGES"); do refs+=("bench/img$i:1"); done
du -sh "$work/reg-src/data" | awk '{print "source registry: " $1 " in '"$IMAGES"' images"}'

{
  echo "$src:"
  echo "  tls-verify: false"
  echo "  images:"
  for i in $(seq -f %02g 1 "$IMAGES"); do echo "    bench/img$i: [\"1\"]"; done
} > "$work/sync.yaml"

run_ours() { "$work/ocibench" copy -from "$src" -to "$1" "${refs[@]}"; }
run_store() { "$work/ocibench" copy -from "$src" -to "$1" -via-store "$work/store" "${refs[@]}"; }
run_crane() { for r in "${refs[@]}"; do "$crane" copy --insecure "$src/$r" "$1/$r" 2> /dev/null; done; }
run_skopeo() { skopeo sync --src yaml --dest docker --dest-tls-verify=false "$work/sync.yaml" "$1/skopeo" > /dev/null 2>&1; }

declare -A cold warm
for tool in ours store crane skopeo; do
  dst=$(registry "$tool")
  t0=$(now); "run_$tool" "$dst"; cold[$tool]=$(elapsed "$t0")
  t0=$(now); "run_$tool" "$dst"; warm[$tool]=$(elapsed "$t0")
done

printf '%-28s %9s %12s\n' "tool" "cold (s)" "no-op (s)"
printf '%-28s %9.2f %12.3f\n' "airgap oci.Copy" "${cold[ours]}" "${warm[ours]}"
printf '%-28s %9.2f %12.3f\n' "airgap sync+push via store" "${cold[store]}" "${warm[store]}"
printf '%-28s %9.2f %12.3f\n' "crane copy (per image)" "${cold[crane]}" "${warm[crane]}"
printf '%-28s %9.2f %12.3f\n' "skopeo sync" "${cold[skopeo]}" "${warm[skopeo]}"
printf 'ratio crane/ours   cold %.2f  no-op %.2f\n' "$(echo "${cold[crane]} / ${cold[ours]}" | bc -l)" "$(echo "${warm[crane]} / ${warm[ours]}" | bc -l)"
printf 'ratio skopeo/ours  cold %.2f  no-op %.2f\n' "$(echo "${cold[skopeo]} / ${cold[ours]}" | bc -l)" "$(echo "${warm[skopeo]} / ${warm[ours]}" | bc -l)"
