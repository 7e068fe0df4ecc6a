#!/usr/bin/env bash
# rpm: cold sync and no-op resync of a local upstream (two repositories, real rpms built
# with rpmbuild and signed, N filler packages) by airgap's rpm.Mirror (pristine, and
# filtered to httpd's closure, re-signed) and by `dnf reposync --download-metadata`
# (dnf-plugins-core) on the same 127.0.0.1 upstream. Prints times and the ratios
# reposync/airgap (goal > 1: airgap faster).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-300}
work=$(mktemp -d)
srv=
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
go build -o "$work/rpmbench" ./bench/cmd/rpmbench
go build -o "$work/fileserver" ./bench/cmd/fileserver
"$work/rpmbench" gen -n "$N" -dir "$work/up"
"$work/fileserver" -dir "$work/up/tree" > "$work/url" &
srv=$!
for _ in $(seq 100); do [ -s "$work/url" ] && break; sleep 0.1; done
url=$(head -n1 "$work/url")/
now() { date +%s.%N; }

out=$("$work/rpmbench" sync -url "$url" -key "$work/up/key.asc" -store "$work/store2")
ours_cold=$(echo "$out" | awk '/^cold/ {print $2}'); pkgs=$(echo "$out" | awk '/^cold/ {print $3}')
ours_noop=$(echo "$out" | awk '/^noop/ {print $2}'); ours_reqs=$(echo "$out" | awk '/^noop/ {print $3}')
fout=$("$work/rpmbench" sync -filter -url "$url" -key "$work/up/key.asc" -store "$work/store3")
f_cold=$(echo "$fout" | awk '/^cold/ {print $2}'); f_pkgs=$(echo "$fout" | awk '/^cold/ {print $3}')
f_noop=$(echo "$fout" | awk '/^noop/ {print $2}')

# dnf reposync: its own config, cache and repos file; gpgcheck and repo_gpgcheck on.
mkdir -p "$work/dnf/repos"
cat > "$work/dnf/dnf.conf" <<CONF
[main]
reposdir=$work/dnf/repos
cachedir=$work/dnf/cache
logdir=$work/dnf/log
persistdir=$work/dnf/persist
gpgcheck=1
repo_gpgcheck=1
module_platform_id=platform:el9
CONF
cat > "$work/dnf/repos/up.repo" <<REPO
[baseos]
name=baseos
baseurl=${url}BaseOS/x86_64/os/
gpgkey=file://$work/up/key.asc
[appstream]
name=appstream
baseurl=${url}AppStream/x86_64/os/
gpgkey=file://$work/up/key.asc
REPO
rs() { dnf -q -y --config "$work/dnf/dnf.conf" --releasever 9 --forcearch x86_64 reposync --download-metadata -p "$work/reposync" >/dev/null 2>&1; }
t0=$(now); rs; t1=$(now); rs; t2=$(now)
rs_cold=$(echo "$t1 - $t0" | bc); rs_noop=$(echo "$t2 - $t1" | bc)
printf 'packages %s (filtered closure %s)\n' "$pkgs" "$f_pkgs"
printf 'airgap pristine: cold %.2fs, no-op %.3fs (%s requests)\n' "$ours_cold" "$ours_noop" "$ours_reqs"
printf 'airgap filtered: cold %.2fs, no-op %.3fs\n' "$f_cold" "$f_noop"
printf 'dnf reposync:    cold %.2fs, no-op %.3fs\n' "$rs_cold" "$rs_noop"
printf 'ratio reposync/airgap: cold %.2f, no-op %.2f\n' "$(echo "$rs_cold / $ours_cold" | bc -l)" "$(echo "$rs_noop / $ours_noop" | bc -l)"
