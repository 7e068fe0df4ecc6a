#!/usr/bin/env bash
# A whole site, every kind at once: the demo's local upstreams (apt with a dependency
# closure, simplestreams, OCI, PyPI, Galaxy, a Snap Store, files) on 127.0.0.1, kept up by
# `airgap demo` while it serves. Times, on a fresh store: the cold sync of every mirror,
# the no-op resync (ROUNDS, median; goal < 2 s), export of the site bundle and its import
# into an empty inside store, each with peak RSS (/usr/bin/time). The demo site is small
# (two images, one wheel tree, one collection, one snap): this measures the fixed cost of
# a site, not its scale (bench/apt-real.sh, bench/oci.sh, bench/pypi.sh do that per kind).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
command -v /usr/bin/time >/dev/null || { echo "/usr/bin/time is required (apt-get install time)" >&2; exit 1; }
work=$(mktemp -d)
demo=
cleanup() { [ -n "$demo" ] && kill "$demo" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
go build -tags demo -o "$work/airgap" ./examples/airgap
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$work/airgap" demo --dir "$work/demo" --listen "127.0.0.1:$port" > "$work/demo.log" 2>&1 &
demo=$!
for _ in $(seq 600); do grep -q 'real clients against the inside mirror' "$work/demo.log" && break; sleep 0.2; done
grep -q 'real clients against the inside mirror' "$work/demo.log" || { cat "$work/demo.log"; exit 1; }

# run NAME CMD...: runs CMD under /usr/bin/time, prints "NAME seconds maxrss_kib".
run() {
	local name=$1; shift
	/usr/bin/time -f "%e %M" -o "$work/time" "$@" > "$work/$name.out" 2>&1 || { cat "$work/$name.out"; exit 1; }
	echo "$name $(cat "$work/time")"
}
mkdir -p "$work/out" "$work/in"
cp "$work/demo/outside/airgap.yaml" "$work/out/airgap.yaml"
sed 's/^store: .*/store: store/' "$work/demo/inside/airgap.yaml" > "$work/in/airgap.yaml"
cold=$(run cold "$work/airgap" --config "$work/out/airgap.yaml" --log-level error sync)
noops=()
for _ in $(seq "$ROUNDS"); do
	noops+=("$(run noop "$work/airgap" --config "$work/out/airgap.yaml" --log-level error sync | awk '{print $2}')")
done
noop=$(printf '%s\n' "${noops[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
exp=$(run export "$work/airgap" --config "$work/out/airgap.yaml" --log-level error export --out "$work/site.tar")
imp=$(run import "$work/airgap" --config "$work/in/airgap.yaml" --log-level error import --force "$work/site.tar")
size=$(stat -c %s "$work/site.tar")
echo "mirrors: $(grep -c '^  - name:' "$work/out/airgap.yaml"), bundle $((size / 1024)) KiB"
printf '%-34s %8s %12s\n' step seconds "peak RSS"
for line in "$cold" "$exp" "$imp"; do
	set -- $line
	printf '%-34s %8s %9s MiB\n' "$1" "$2" "$(($3 / 1024))"
done
printf '%-34s %8s   (median of %d; goal < 2 s)\n' "no-op resync, whole site" "$noop" "$ROUNDS"
