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

# airgap: durable (fsync per blob) and, like the peers, without fsync
out=$("$work/aptbench" sync -url "$url" -key "$key" -store "$work/store")
t_sync=$(echo "$out" | awk '/^cold/ {print $2}')
noop=$(echo "$out" | awk '/^noop/ {print $2, $3}')
out=$("$work/aptbench" sync -url "$url" -key "$key" -store "$work/store-nosync" -nosync)
t_ours=$(echo "$out" | awk '/^cold/ {print $2}')

# aptly
t_aptly=
if command -v aptly >/dev/null; then
	cat > "$work/aptly.conf" <<JSON
{"rootDir": "$work/aptly", "downloadConcurrency": 8, "gpgDisableVerify": false, "gpgProvider": "gpg", "architectures": ["amd64"]}
JSON
	export GNUPGHOME="$work/gnupg"; mkdir -p -m 700 "$GNUPGHOME"
	t0=$(now)
	if aptly -config="$work/aptly.conf" mirror create -keyring="$key" -architectures=amd64 bench "$url/" stable main > "$work/aptly.log" 2>&1 &&
		aptly -config="$work/aptly.conf" mirror update -keyring="$key" bench >> "$work/aptly.log" 2>&1; then
		t_aptly=$(echo "$(now) - $t0" | bc)
	else
		echo "aptly failed:"; tail -n 20 "$work/aptly.log"
	fi
else
	echo "aptly not installed (apt-get install aptly)"
fi

# debmirror
t_debmirror=
if command -v debmirror >/dev/null; then
	hostport=${url#http://}
	t0=$(now)
	if HOME="$work" debmirror --host="$hostport" --method=http --root=/ --dist=stable --section=main \
		--arch=amd64 --nosource --keyring="$key" --diff=none --rsync-extra=none --i18n \
		--getcontents=no --ignore-release-gpg=no --no-check-gpg=no "$work/debmirror" > "$work/debmirror.log" 2>&1 ||
		HOME="$work" debmirror --host="$hostport" --method=http --root=/ --dist=stable --section=main \
		--arch=amd64 --nosource --keyring="$key" --diff=none --rsync-extra=none "$work/debmirror" > "$work/debmirror.log" 2>&1; then
		t_debmirror=$(echo "$(now) - $t0" | bc)
	else
		echo "debmirror failed:"; tail -n 20 "$work/debmirror.log"
	fi
else
	echo "debmirror not installed (apt-get install debmirror)"
fi

printf 'upstream: %d packages, %d pool files, %s\n' "$N" "$files" "$url"
printf 'airgap apt.Mirror  %7.2fs  (no fsync, as the peers; ratios below use this)\n' "$t_ours"
printf 'airgap apt.Mirror  %7.2fs  (fsync per blob)\n' "$t_sync"
[ -n "$t_aptly" ] && printf 'aptly              %7.2fs  ratio aptly/airgap %.2f\n' "$t_aptly" "$(echo "$t_aptly / $t_ours" | bc -l)"
[ -n "$t_debmirror" ] && printf 'debmirror          %7.2fs  ratio debmirror/airgap %.2f\n' "$t_debmirror" "$(echo "$t_debmirror / $t_ours" | bc -l)"
printf 'airgap no-op resync: %s s, %s\n' $noop
