#!/usr/bin/env bash
# A whole site, every kind at once, at the size of issue #20 (`airgap demo --size site`:
# apt 3 suites with a dependency closure, simplestreams with 2 releases, 20 OCI images,
# 30 PyPI requirements, 5 Galaxy collections, 3 snaps, 5 files, rpm with a closure over
# BaseOS+AppStream, helm with 5 signed versions; SIZE=tour is the demo's small site) on
# local upstreams on 127.0.0.1, kept up by the demo while it serves. Times, on a fresh
# store: the cold sync of every mirror, the no-op resync (ROUNDS, median; goal < 2 s),
# export of the site bundle and its import into an empty inside store, each with peak
# RSS (/usr/bin/time). Then the requests each upstream served during the last no-op,
# counted by the upstream itself: the goal is one conditional request per signed index
# or page, so every path asked for more than once is flagged.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
SIZE=${SIZE:-site}
command -v /usr/bin/time >/dev/null || { echo "/usr/bin/time is required (apt-get install time)" >&2; exit 1; }
work=$(mktemp -d)
demo=
cleanup() { [ -n "$demo" ] && kill "$demo" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
go build -tags demo -o "$work/airgap" ./examples/airgap
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$work/airgap" demo --size "$SIZE" --dir "$work/demo" --listen "127.0.0.1:$port" > "$work/demo.log" 2>&1 &
demo=$!
for _ in $(seq 1500); do grep -q 'real clients against the inside mirror' "$work/demo.log" && break; sleep 0.2; done
grep -q 'real clients against the inside mirror' "$work/demo.log" || { cat "$work/demo.log"; exit 1; }
requests=$(grep -o 'requests each upstream served.*: http://[0-9.:]*' "$work/demo.log" | grep -o 'http://.*')

# run NAME CMD...: runs CMD under /usr/bin/time, prints "NAME seconds maxrss_kib".
run() {
	local name=$1; shift
	/usr/bin/time -f "%e %M" -o "$work/time" "$@" > "$work/$name.out" 2>&1 || { cat "$work/$name.out"; exit 1; }
	echo "$name $(cat "$work/time")"
}
mkdir -p "$work/out" "$work/in"
cp "$work/demo/outside/airgap.yaml" "$work/out/airgap.yaml"
sed 's/^store: .*/store: store/' "$work/demo/inside/airgap.yaml" > "$work/in/airgap.yaml"
curl -fsS "$requests" > /dev/null # forget the demo's own sync
cold=$(run cold "$work/airgap" --config "$work/out/airgap.yaml" --log-level error sync)
curl -fsS "$requests" > "$work/cold.requests"
noops=()
for _ in $(seq "$ROUNDS"); do
	noops+=("$(run noop "$work/airgap" --config "$work/out/airgap.yaml" --log-level error sync | awk '{print $2}')")
	curl -fsS "$requests" > "$work/noop.requests"
done
noop=$(printf '%s\n' "${noops[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
exp=$(run export "$work/airgap" --config "$work/out/airgap.yaml" --log-level error export --out "$work/site.tar")
imp=$(run import "$work/airgap" --config "$work/in/airgap.yaml" --log-level error import --force "$work/site.tar")
size=$(stat -c %s "$work/site.tar")
echo "site $SIZE: $(grep -c '^  - name:' "$work/out/airgap.yaml") mirrors, bundle $((size / 1024)) KiB; $(uptime | sed 's/.*load/load/')"
grep -E '^[a-z]+/[a-z0-9-]+: published' "$work/cold.out" | sed 's/^/  /' || true
printf '%-34s %8s %12s\n' step seconds "peak RSS"
for line in "$cold" "$exp" "$imp"; do
	set -- $line
	printf '%-34s %8s %9s MiB\n' "$1" "$2" "$(($3 / 1024))"
done
printf '%-34s %8s   (median of %d: %s; goal < 2 s)\n' "no-op resync, whole site" "$noop" "$ROUNDS" "${noops[*]}"

# Lines "UPSTREAM REQUESTS PATH" (the demo's request counts of the last no-op).
echo
echo "requests per upstream (cold sync; no-op resync; goal: one per signed index or page)"
printf '%-14s %6s %8s %6s %5s  %s\n' upstream cold no-op paths max "paths asked for more than once"
for u in $(awk '{print $1}' "$work/cold.requests" "$work/noop.requests" | sort -u); do
	c=$(awk -v u="$u" '$1 == u {n += $2} END {print n + 0}' "$work/cold.requests")
	awk -v u="$u" -v c="$c" '$1 == u {n += $2; p++; if ($2 > m) m = $2; if ($2 > 1) { f++; if (f <= 3) fl = fl " " $3 " x" $2 } }
		END { printf "%-14s %6d %8d %6d %5d  %s\n", u, c, n, p, m, f ? "FLAG " f ":" fl (f > 3 ? " ..." : "") : "-" }' "$work/noop.requests"
done
[ -n "${VERBOSE:-}" ] && { echo; echo "no-op requests by path:"; cat "$work/noop.requests"; }
exit 0
