#!/usr/bin/env bash
# helm: a 300-version signed chart repository (N=300) on 127.0.0.1, mirrored by
# airgap's helm.Mirror (cold: every archive and .prov fetched and verified; no-op: one
# conditional GET) against real helm pulling the same set with --verify in a loop: after
# `helm repo add` (one index fetch), and hauler-style single fetches (`helm pull --repo`,
# the index fetched again for each). Prints times and the ratios helm/airgap (> 1:
# airgap faster). Then the peak RSS of reading a 44 MB index. Needs HELM4_BIN (make helm).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-300}
HELM=${HELM4_BIN:-$HOME/.cache/airgap/bin/helm-v4.3.2}
work=$(mktemp -d)
srv=
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
go build -o "$work/helmbench" ./bench/cmd/helmbench
go build -o "$work/fileserver" ./bench/cmd/fileserver
"$work/helmbench" gen -n "$N" -dir "$work/up"
"$work/fileserver" -dir "$work/up/repo" > "$work/url" &
srv=$!
for _ in $(seq 100); do [ -s "$work/url" ] && break; sleep 0.1; done
url=$(head -n1 "$work/url")
now() { date +%s.%N; }

out=$("$work/helmbench" sync -url "$url" -key "$work/up/pubring.gpg" -store "$work/store")
ours_cold=$(echo "$out" | awk '/^cold/ {print $2}'); versions=$(echo "$out" | awk '/^cold/ {print $3}')
ours_noop=$(echo "$out" | awk '/^noop/ {print $2}'); ours_reqs=$(echo "$out" | awk '/^noop/ {print $3}')

export HELM_CONFIG_HOME=$work/helm/config HELM_CACHE_HOME=$work/helm/cache HELM_DATA_HOME=$work/helm/data
mkdir -p "$work/pulled" "$work/single"
vers=$(grep -E '^ +version: ' "$work/up/repo/index.yaml" | awk '{print $2}' | tr -d '"')
t0=$(now)
"$HELM" repo add up "$url" >/dev/null
for v in $vers; do "$HELM" pull up/app --version "$v" --verify --keyring "$work/up/pubring.gpg" -d "$work/pulled" >/dev/null; done
t1=$(now)
for v in $vers; do "$HELM" pull app --repo "$url" --version "$v" --verify --keyring "$work/up/pubring.gpg" -d "$work/single" >/dev/null; done
t2=$(now)
helm_loop=$(echo "$t1 - $t0" | bc); helm_single=$(echo "$t2 - $t1" | bc)
printf 'versions %s\n' "$versions"
printf 'airgap helm.Mirror: cold %.2fs, no-op %.3fs (%s requests)\n' "$ours_cold" "$ours_noop" "$ours_reqs"
printf 'helm pull loop (repo add):  %.2fs\n' "$helm_loop"
printf 'helm pull --repo (single):  %.2fs\n' "$helm_single"
printf 'ratio helm/airgap cold: loop %.2f, single fetches %.2f; helm loop / airgap no-op %.1f\n' \
	"$(echo "$helm_loop / $ours_cold" | bc -l)" "$(echo "$helm_single / $ours_cold" | bc -l)" "$(echo "$helm_loop / $ours_noop" | bc -l)"

# A 44 MB index (150 charts of 400 versions, twice bitnami's): reading the 2 charts a
# sync is configured for (helm.ReadIndex, block by block) against decoding it whole
# (helm.ParseIndex, what a sync did before): time and peak RSS of the process.
"$work/helmbench" index -out "$work/big-index.yaml"
read -r _ blk_s blk_rss < <("$work/helmbench" parse -index "$work/big-index.yaml")
read -r _ whl_s whl_rss < <("$work/helmbench" parse -index "$work/big-index.yaml" -whole)
printf 'index 44 MB, 2 of 150 charts: ReadIndex %.2fs %s MiB peak RSS; whole %.2fs %s MiB; ratio RSS %.0f, time %.1f\n' \
	"$blk_s" "$blk_rss" "$whl_s" "$whl_rss" "$(echo "$whl_rss / $blk_rss" | bc -l)" "$(echo "$whl_s / $blk_s" | bc -l)"
