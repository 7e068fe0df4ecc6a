#!/usr/bin/env bash
# apt: full sync of a local upstream (N small packages, signed, by-hash) by airgap's
# apt.Mirror, aptly (mirror create + update) and debmirror, all against the same
# 127.0.0.1 upstream with their own temporary configuration. Prints the times, the
# ratios peer/airgap (goal > 1: airgap faster), and airgap's no-op resync.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-2000}
work=$(mktemp -d)
srv=
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
go build -o "$work/aptbench" ./bench/cmd/aptbench
"$work/aptbench" gen -n "$N" -dir "$work/up"
"$work/aptbench" serve -dir "$work/up" > "$work/url" &
srv=$!
for _ in $(seq 100); do [ -s "$work/url" ] && break; sleep 0.1; done
url=$(head -n1 "$work/url")
key="$work/up/key.gpg"
files=$(find "$work/up/repo/pool" -type f | wc -l)
now() { date +%s.%N; }

# Interleave ROUNDS rounds so that load changes hit every tool alike; keep the best.
ROUNDS=${ROUNDS:-2}
export GNUPGHOME="$work/gnupg"; mkdir -p -m 700 "$GNUPGHOME"
cat > "$work/aptly.conf" <<JSON
{"rootDir": "$work/aptly", "downloadConcurrency": 8, "gpgDisableVerify": false, "gpgProvider": "gpg", "architectures": ["amd64"]}
JSON
hostport=${url#http://}
: > "$work/t_ours"; : > "$work/t_sync"; : > "$work/t_aptly"; : > "$work/t_debmirror"
have_aptly=$(command -v aptly || true); have_debmirror=$(command -v debmirror || true)
[ -z "$have_aptly" ] && echo "aptly not installed (apt-get install aptly)"
[ -z "$have_debmirror" ] && echo "debmirror not installed (apt-get install debmirror)"
for _ in $(seq 1 "$ROUNDS"); do
	# airgap: like the peers without fsync, and durable (fsync per blob)
	rm -rf "$work/store-nosync" "$work/store"
	out=$("$work/aptbench" sync -url "$url" -key "$key" -store "$work/store-nosync" -nosync)
	echo "$out" | awk '/^cold/ {print $2}' >> "$work/t_ours"
	noop=$(echo "$out" | awk '/^noop/ {print $2, $3}')
	"$work/aptbench" sync -url "$url" -key "$key" -store "$work/store" | awk '/^cold/ {print $2}' >> "$work/t_sync"
	if [ -n "$have_aptly" ]; then
		rm -rf "$work/aptly"
		t0=$(now)
		if aptly -config="$work/aptly.conf" mirror create -keyring="$key" -architectures=amd64 bench "$url/" stable main > "$work/aptly.log" 2>&1 &&
			aptly -config="$work/aptly.conf" mirror update -keyring="$key" bench >> "$work/aptly.log" 2>&1; then
			echo "$(now) - $t0" | bc >> "$work/t_aptly"
		else
			echo "aptly failed:"; tail -n 20 "$work/aptly.log"
		fi
	fi
	if [ -n "$have_debmirror" ]; then
		rm -rf "$work/debmirror"
		t0=$(now)
		if HOME="$work" debmirror --host="$hostport" --method=http --root=/ --dist=stable --section=main \
			--arch=amd64 --nosource --keyring="$key" --diff=none --rsync-extra=none \
			"$work/debmirror" > "$work/debmirror.log" 2>&1; then
			echo "$(now) - $t0" | bc >> "$work/t_debmirror"
		else
			echo "debmirror failed:"; tail -n 20 "$work/debmirror.log"
		fi
	fi
done
best() { sort -g | head -n1; }
t_ours=$(best < "$work/t_ours"); t_sync=$(best < "$work/t_sync")
t_aptly=$(best < "$work/t_aptly"); t_debmirror=$(best < "$work/t_debmirror")

printf 'upstream: %d packages, %d pool files, %s; best of %d rounds\n' "$N" "$files" "$url" "$ROUNDS"
printf 'airgap apt.Mirror  %7.2fs  (no fsync, as the peers; ratios below use this)\n' "$t_ours"
printf 'airgap apt.Mirror  %7.2fs  (fsync per blob)\n' "$t_sync"
[ -n "$t_aptly" ] && printf 'aptly              %7.2fs  ratio aptly/airgap %.2f\n' "$t_aptly" "$(echo "$t_aptly / $t_ours" | bc -l)"
[ -n "$t_debmirror" ] && printf 'debmirror          %7.2fs  ratio debmirror/airgap %.2f\n' "$t_debmirror" "$(echo "$t_debmirror / $t_ours" | bc -l)"
printf 'airgap no-op resync: %s s, %s\n' $noop
