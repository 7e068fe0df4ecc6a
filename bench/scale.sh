#!/usr/bin/env bash
# Cost per item at 1x, 10x and 100x (issue #20): it must stay flat. On local upstreams on
# 127.0.0.1, each size a fresh store (WithoutSync, as the peers):
#   apt   APT packages (default 600 6000 60000): signed by-hash repository of synthetic
#         small .debs with real-sized Packages stanzas (aptbench gen -real-size), airgap's
#         apt.Mirror cold and no-op against aptly (mirror create + update, then update) on
#         the same upstream;
#   oci   OCI tags (default 5 50 500) of one repository in Debian's docker-registry, a
#         small image each, every tag selected (oci.Mirror repositories:) against
#         `skopeo sync` of the whole repository into a second docker-registry;
#   pypi  PyPI projects (default 3 30 300) of pypitest.Closure, each required, against
#         `pip download` of the same requirements.
# Prints seconds, ms per item, peak RSS (/usr/bin/time) and the ratios peer/airgap (> 1:
# airgap faster), ROUNDS rounds (median of each), and the no-op's requests.
#
#   APT="600 6000" OCI="5 50" PYPI="3 30" ROUNDS=1 bench/scale.sh   # modest sizes first
set -euo pipefail
cd "$(dirname "$0")/.."
APT=${APT-600 6000 60000}
OCI=${OCI-5 50 500}
PYPI=${PYPI-3 30 300}
ROUNDS=${ROUNDS:-3}
for b in /usr/bin/time curl python3; do command -v "$b" >/dev/null || { echo "$b is required" >&2; exit 1; }; done
work=$(mktemp -d)
. bench/lib.sh
pids=()
stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; pids=(); kill_registries; }
cleanup() { stop; rm -rf "$work"; }
trap cleanup EXIT
for c in aptbench ocibench pypibench; do go build -o "$work/$c" "./bench/cmd/$c"; done
echo "$(nproc) cores; $(uptime | sed 's/.*load/load/')"

# start CMD... : runs a server that prints its URL on its first line; sets $url.
start() {
	: > "$work/url"
	"$@" > "$work/url" &
	pids+=($!)
	for _ in $(seq 600); do [ -s "$work/url" ] && break; sleep 0.1; done
	url=$(head -n1 "$work/url")
}
# measure OUT CMD... : appends "wall maxrss_kib" of CMD to $work/OUT; its output to OUT.log.
measure() {
	/usr/bin/time -f '%e %M' -o "$work/time" "${@:2}" > "$work/$1.log" 2>&1 || { echo "$2 failed:"; tail -n 20 "$work/$1.log"; exit 1; }
	cat "$work/time" >> "$work/$1"
}
# med FILE [COLUMN]: the median of a column (default 1).
med() { awk -v c="${2:-1}" '{print $c}' "$1" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
perms() { awk -v s="$1" -v n="$2" 'BEGIN {printf "%.3f", s * 1000 / n}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "-"}'; }
rows=()
# row KIND N: a table row from this size's rounds: a.cold ("seconds rss_kib" of the
# process), a.noop ("seconds requests"), p.cold ("seconds rss_kib"), p.noop ("seconds").
row() {
	local cold noop rss pc="-" pn="-" prss="-" pms="-" rc="-" rn="-"
	cold=$(med "$work/a.cold"); noop=$(med "$work/a.noop"); rss=$(($(med "$work/a.cold" 2) / 1024))
	if [ -s "$work/p.cold" ]; then
		pc=$(med "$work/p.cold"); pn=$(med "$work/p.noop"); prss=$(($(med "$work/p.cold" 2) / 1024))
		pms=$(perms "$pc" "$2"); rc=$(ratio "$pc" "$cold"); rn=$(ratio "$pn" "$noop")
	fi
	rows+=("$(printf '%-5s %7s %8s %9s %8s %5s %6s MiB  %8s %8s %6s MiB  %6s %6s' "$1" "$2" "$cold" "$(perms "$cold" "$2")" "$noop" \
		"$(tail -n1 "$work/a.noop" | awk '{print $2}')" "$rss" "$pc" "$pms" "$prss" "$rc" "$rn")")
}
# peer NAME CMD...: one cold and one no-op run of a peer into p.cold and p.noop.
peer() {
	: > "$work/t"
	measure t "${@:2}"
	cat "$work/t" >> "$work/p.cold"
	: > "$work/t"
	measure t "${@:2}"
	awk '{print $1}' "$work/t" >> "$work/p.noop"
}
# ours CMD...: a cold sync and a no-op by one bench command ("cold S ..." then "noop S REQUESTS").
ours() {
	: > "$work/sync"
	measure sync "$@"
	paste -d' ' <(awk '/^cold/ {print $2}' "$work/sync.log") <(awk '{print $2}' "$work/sync") >> "$work/a.cold"
	awk '/^noop/ {print $2, $3}' "$work/sync.log" | sed 's/requests=//' >> "$work/a.noop"
}

export GNUPGHOME="$work/gnupg"; mkdir -p -m 700 "$GNUPGHOME"
for n in $APT; do
	rm -rf "$work/up"
	"$work/aptbench" gen -n "$n" -real-size -dir "$work/up"
	stanza=$(( $(stat -c %s "$work/up/repo/dists/stable/main/binary-amd64/Packages") / n ))
	start "$work/aptbench" serve -dir "$work/up"
	cat > "$work/aptly.conf" <<JSON
{"rootDir": "$work/aptly", "downloadConcurrency": 8, "gpgDisableVerify": false, "gpgProvider": "gpg", "architectures": ["amd64"]}
JSON
	: > "$work/a.cold"; : > "$work/a.noop"; : > "$work/p.cold"; : > "$work/p.noop"
	for _ in $(seq "$ROUNDS"); do
		rm -rf "$work/store" "$work/aptly"
		ours "$work/aptbench" sync -url "$url" -key "$work/up/key.gpg" -store "$work/store" -nosync
		if command -v aptly >/dev/null; then # cold: mirror create + update; no-op: update
			: > "$work/t"
			measure t aptly -config="$work/aptly.conf" mirror create -keyring="$work/up/key.gpg" -architectures=amd64 b "$url/" stable main
			measure t aptly -config="$work/aptly.conf" mirror update -keyring="$work/up/key.gpg" b
			awk '{w += $1; if ($2 > r) r = $2} END {print w, r}' "$work/t" >> "$work/p.cold"
			: > "$work/t"
			measure t aptly -config="$work/aptly.conf" mirror update -keyring="$work/up/key.gpg" b
			awk '{print $1}' "$work/t" >> "$work/p.noop"
		fi
	done
	stop
	row apt "$n"
	echo "apt $n packages: mean stanza $stanza bytes, Packages $((stanza * n / 1024)) KiB"
done

for n in $OCI; do
	dst=$(registry dst)
	reg=$(registry src)
	"$work/ocibench" gen -to "$reg" -tags "$n" -repo bench/many
	: > "$work/a.cold"; : > "$work/a.noop"; : > "$work/p.cold"; : > "$work/p.noop"
	for r in $(seq "$ROUNDS"); do # skopeo into a second registry (--dest dir refuses to sync into what it wrote)
		rm -rf "$work/store"
		ours "$work/ocibench" sync -from "$reg" -repo bench/many -store "$work/store"
		command -v skopeo >/dev/null && peer skopeo skopeo sync --src docker --dest docker --src-tls-verify=false --dest-tls-verify=false \
			"$reg/bench/many" "$dst/round$r"
	done
	stop
	images=$(awk '/^cold/ {print $3}' "$work/sync.log")
	[ "$images" = "$n" ] || { echo "oci: synced $images images, not $n"; exit 1; }
	row oci "$n"
done

for n in $PYPI; do
	start "$work/pypibench" serve -projects "$n"
	reqs=(); for i in $(seq 0 $((n - 1))); do reqs+=("gen-$i"); done
	: > "$work/a.cold"; : > "$work/a.noop"; : > "$work/p.cold"; : > "$work/p.noop"
	for _ in $(seq "$ROUNDS"); do
		rm -rf "$work/store" "$work/pip"
		ours "$work/pypibench" sync -url "$url" -store "$work/store" -projects "$n"
		command -v pip >/dev/null && peer pip pip download -q --isolated --disable-pip-version-check --no-cache-dir \
			--only-binary=:all: -d "$work/pip" -i "$url" "${reqs[@]}"
	done
	stop
	row pypi "$n"
done

echo
echo "median of $ROUNDS rounds; peers: apt aptly, oci skopeo sync (registry to registry), pypi pip download; $(uptime | sed 's/.*load/load/')"
printf '%-5s %7s %8s %9s %8s %5s %10s  %8s %8s %10s  %6s %6s\n' kind items cold-s "ms/item" noop-s reqs "RSS" peer-s "ms/item" "peer RSS" "cold x" "noop x"
printf '%s\n' "${rows[@]}"
