# Helpers the bench scripts source (they set $work, a temporary directory, first).

# freeport prints a free TCP port on 127.0.0.1.
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# registry NAME prints the host:port of a fresh Debian docker-registry on 127.0.0.1 (data
# in $work/reg-NAME). It runs in a subshell ($(...)): the pid goes to $work/pids, which
# kill_registries reads.
registry() {
	local port dir=$work/reg-$1
	port=$(freeport); rm -rf "$dir"; mkdir -p "$dir/data"
	cat > "$dir/config.yml" <<YML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $dir/data
http:
  addr: 127.0.0.1:$port
YML
	docker-registry serve "$dir/config.yml" > "$dir/log" 2>&1 &
	echo $! >> "$work/pids"
	for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/v2/" > /dev/null && break; sleep 0.1; done
	echo "127.0.0.1:$port"
}

kill_registries() {
	if [ -f "$work/pids" ]; then while read -r p; do kill "$p" 2>/dev/null || true; done < "$work/pids"; fi
	rm -f "$work/pids"
}
