#!/usr/bin/env bash
# apt on real data: a byte-identical replica of deb.debian.org bookworm (+updates,
# +security) built from apt's lists (InRelease verbatim, the plain Packages it signs; the
# .xz/.gz it also lists are absent), with the real .debs of the selection fetched by
# `apt-get download`, served on 127.0.0.1. airgap's apt.Mirror and aptly mirror the same
# selection (hello and its dependencies, `-filter='Name (= hello)' -filter-with-deps`) of
# bookworm main amd64 (63,440 packages). Prints cold and no-op times (wall, and user+sys
# CPU: the machine is shared), peak RSS, and aptly/airgap ratios (> 1: airgap faster or
# smaller); then airgap over all three suites as one mirror (aptly cannot: one mirror per
# URL and suite). Skips when apt's lists hold no bookworm indices.
#
#   LISTS=/var/lib/apt/lists ROUNDS=3 RECOMPRESS=1 PRISTINE=1 bench/apt-real.sh
# RECOMPRESS=1 adds a re-signed replica that also serves .xz/.gz (xz -6), to time the
# decoders: airgap reading xz (index_formats: [xz]) against aptly.
# PRISTINE=1 (the default) times airgap's pristine mode (the upstream's metadata verbatim)
# on the Debian-signed replica, and against debmirror (the verbatim peer, when installed)
# on a "complete" replica: re-signed, .xz/.gz added, listing only what it serves, with
# Release and Release.gpg (debmirror fetches every listed variant and needs Release).
set -euo pipefail
cd "$(dirname "$0")/.."
LISTS=${LISTS:-/var/lib/apt/lists}
ROUNDS=${ROUNDS:-3}
KEY=/usr/share/keyrings/debian-archive-keyring.gpg
if ! ls "$LISTS"/deb.debian.org_debian_dists_bookworm_InRelease >/dev/null 2>&1; then
	echo "skip: no deb.debian.org bookworm lists in $LISTS (a Debian bookworm host after apt-get update)"
	exit 0
fi
for b in aptly apt-get /usr/bin/time; do command -v "$b" >/dev/null || { echo "skip: $b not installed"; exit 0; }; done
[ -r "$KEY" ] || { echo "skip: $KEY missing (apt-get install debian-archive-keyring)"; exit 0; }
work=$(mktemp -d)
srv=
stop() { if [ -n "$srv" ]; then kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null || true; fi; srv=; }
cleanup() { stop; rm -rf "$work"; }
trap cleanup EXIT
go build -o "$work/aptbench" ./bench/cmd/aptbench
serve() { # dir
	: > "$work/url"
	"$work/aptbench" serve -dir "$1" > "$work/url" &
	srv=$!
	for _ in $(seq 100); do [ -s "$work/url" ] && break; sleep 0.1; done
	url=$(head -n1 "$work/url")
}

"$work/aptbench" replica -lists "$LISTS" -dir "$work/ident"
[ "${RECOMPRESS:-0}" = 1 ] && "$work/aptbench" replica -lists "$LISTS" -dir "$work/resigned" -recompress > /dev/null
[ "${PRISTINE:-1}" = 1 ] && "$work/aptbench" replica -lists "$LISTS" -dir "$work/complete" -recompress -complete > /dev/null
main=deb.debian.org/debian
sec=deb.debian.org/debian-security
sel=(-filter hello -deps -allow-expired) # aptly never checks Valid-Until: same rule for both

# the .debs of the selection over all three suites, by apt-get download (the host's own
# lists name the same versions), placed at their pool paths in every replica
serve "$work/ident"
"$work/aptbench" plan -url "$url/$main" -suites bookworm,bookworm-updates -upstream "$url/$sec|bookworm-security" \
	-key "$KEY" "${sel[@]}" | sort -u > "$work/plan"
stop
mkdir -p "$work/debs"
(cd "$work/debs" && awk '{print $2}' "$work/plan" | sort -u | xargs apt-get download -q=2 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
while read -r u nv; do
	p=${u#http://*/}
	f="$work/debs/$(basename "$p" | sed 's/%3a/:/g')"
	[ -f "$f" ] || f=$(ls "$work/debs/${nv%%=*}_"*.deb | head -n1)
	for r in "$work/ident" "$work/resigned" "$work/complete"; do
		[ -d "$r" ] || continue
		mkdir -p "$(dirname "$r/repo/$p")" && cp "$f" "$r/repo/$p"
	done
done < "$work/plan"
debs=$(wc -l < "$work/plan")
# debmirror selects pool files by regex: the same files
inc="($(awk '{n = $1; sub(/.*\//, "", n); print n}' "$work/plan" | sed 's/[.+]/\\&/g' | paste -sd'|'))"

export GNUPGHOME="$work/gnupg"; mkdir -p -m 700 "$GNUPGHOME"
measure() { # out-prefix cmd...: appends "wall cpu rss_kB" of the command to $work/$1
	/usr/bin/time -f '%e %U %S %M' -o "$work/time" "${@:2}" > "$work/$1.log" 2>&1 || { echo "$2 failed:"; tail -n 20 "$work/$1.log"; exit 1; }
	awk '{printf "%s %.2f %s\n", $1, $2 + $3, $4}' "$work/time" >> "$work/$1"
}
airgap_run() { # name url keyring extra-args... (aptbench sync: a sync, then a no-op; a second run is all no-op)
	rm -rf "$work/store"
	measure "$1.cold" "$work/aptbench" sync -url "$2/$main" -suites bookworm -key "$3" -store "$work/store" -nosync "${sel[@]}" "${@:4}"
	measure "$1.noop" "$work/aptbench" sync -url "$2/$main" -suites bookworm -key "$3" -store "$work/store" -nosync "${sel[@]}" "${@:4}"
	grep '^cold' "$work/$1.cold.log" | tail -n1 > "$work/$1.stats"
}
aptly_run() { # name url keyring
	cat > "$work/aptly.conf" <<JSON
{"rootDir": "$work/aptly", "downloadConcurrency": 8, "gpgDisableVerify": false, "gpgProvider": "gpg", "architectures": ["amd64"]}
JSON
	rm -rf "$work/aptly"
	local a=(aptly -config="$work/aptly.conf")
	: > "$work/t"
	measure t "${a[@]}" mirror create -keyring="$3" -filter='Name (= hello)' -filter-with-deps -architectures=amd64 b "$2/$main/" bookworm main
	measure t "${a[@]}" mirror update -keyring="$3" b
	awk '{w += $1; c += $2; if ($3 > r) r = $3} END {printf "%.2f %.2f %d\n", w, c, r}' "$work/t" >> "$work/$1.cold"
	measure "$1.noop" "${a[@]}" mirror update -keyring="$3" b
}
debmirror_run() { # name url keyring (bookworm main amd64, the selection's pool files)
	rm -rf "$work/dm"
	local d=(debmirror --host="${2#http://}" --root="$main" --method=http --dist=bookworm --section=main --arch=amd64
		--nosource --keyring="$3" --diff=none --rsync-extra=none --exclude='.*' --include="$inc" "$work/dm")
	measure "$1.cold" "${d[@]}"
	measure "$1.noop" "${d[@]}"
}
for _ in $(seq 1 "$ROUNDS"); do
	serve "$work/ident"
	airgap_run airgap "$url" "$KEY"
	[ -d "$work/complete" ] && airgap_run pristine "$url" "$KEY" -pristine
	aptly_run aptly "$url" "$KEY"
	rm -rf "$work/store"
	measure multi "$work/aptbench" sync -url "$url/$main" -suites bookworm,bookworm-updates -upstream "$url/$sec|bookworm-security" \
		-key "$KEY" -store "$work/store" -nosync "${sel[@]}"
	stop
	if [ -d "$work/complete" ]; then
		serve "$work/complete"
		airgap_run pristine-c "$url" "$work/complete/key.gpg" -pristine
		command -v debmirror > /dev/null && debmirror_run debmirror "$url" "$work/complete/key.gpg"
		stop
	fi
	if [ -d "$work/resigned" ]; then
		serve "$work/resigned"
		airgap_run airgap-gz "$url" "$work/resigned/key.gpg" -formats gz
		airgap_run airgap-xz "$url" "$work/resigned/key.gpg" -formats xz
		aptly_run aptly-xz "$url" "$work/resigned/key.gpg"
		stop
	fi
done

best() { sort -g -k2 "$work/$1" | head -n1; } # by CPU time
row() { # label file
	read -r w c r < <(best "$1")
	printf '%-44s %7.2fs %7.2fs %7.0f MB\n' "$2" "$w" "$c" "$((r / 1024))"
}
ratio() { # peer ours [peer name]: wall, cpu and RSS ratios ("-" where ours rounds to zero)
	paste -d' ' <(best "$1") <(best "$2") | awk -v peer="${3:-aptly}" '
		function r(a, b) { return b > 0 ? sprintf("%7.2f", a / b) : "      -" }
		{ printf "%-44s %s  %s  %s\n", "  ratio " peer "/airgap", r($1, $4), r($2, $5), r($3, $6) }'
}
echo "replica of deb.debian.org from $LISTS; $debs .debs by apt-get download; best of $ROUNDS rounds (by CPU)"
echo "airgap selection: $(cat "$work/airgap.stats")"
printf '%-44s %8s %8s %10s\n' "" wall cpu "peak RSS"
row airgap.cold "airgap cold (bookworm, plain index)"
row aptly.cold "aptly mirror create + update"
ratio aptly.cold airgap.cold
row airgap.noop "airgap no-op"
row aptly.noop "aptly mirror update (no-op)"
ratio aptly.noop airgap.noop
row multi "airgap cold, bookworm+updates+security"
if [ -d "$work/complete" ]; then
	row pristine.cold "airgap pristine cold (Debian-signed replica)"
	row pristine.noop "airgap pristine no-op"
	row pristine-c.cold "airgap pristine cold, complete replica"
	if [ -s "$work/debmirror.cold" ]; then
		row debmirror.cold "debmirror cold, complete replica"
		ratio debmirror.cold pristine-c.cold debmirror
	fi
	row pristine-c.noop "airgap pristine no-op, complete replica"
	if [ -s "$work/debmirror.noop" ]; then
		row debmirror.noop "debmirror no-op, complete replica"
		ratio debmirror.noop pristine-c.noop debmirror
	fi
fi
if [ -d "$work/resigned" ]; then
	row aptly-xz.cold "aptly cold, re-signed replica (reads gz)"
	row airgap-gz.cold "airgap cold, re-signed replica, gz"
	ratio aptly-xz.cold airgap-gz.cold
	row airgap-xz.cold "airgap cold, re-signed replica, xz"
	ratio aptly-xz.cold airgap-xz.cold
fi
