#!/bin/bash
# A manual cross-check of the relay rows of bench/Invoke-Benchmark.ps1 (not run by the build or the tests):
# long-lived forwarders, alternated rounds, optionally every process on chosen CPUs (CPUS=1 puts the peers, the
# relay's pwsh and socat on one CPU, so no wake-up crosses CPUs and each forwarder's own cost decides).
#   bulk:       iperf3 -c -l 1M -n 1G -> forwarder -> iperf3 -s, the receiver's MiB/s
#   round trip: a Python client's 64-byte ping-pongs -> forwarder -> a Python echo server, microseconds
# Usage (from the repository, after build.ps1 -Task Build): CPUS=1 ROUNDS=11 bench/manual/relay-vs-socat.sh
# Traffic stays on 127.0.0.1; every process it starts is stopped by its id; every wait is bounded by timeout(1).
set -euo pipefail
CPUS=${CPUS:-$(seq -s, 0 $(($(nproc) - 1)))}
ROUNDS=${ROUNDS:-11}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
MANIFEST=$REPO/out/SocketCmdlets/SocketCmdlets.psd1
WORK=$(mktemp -d)
T="taskset -c $CPUS"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# Waits until something listens on the port, without connecting (a probe connection would start an iperf3 test).
wait_port() { timeout 60 bash -c "until ss -Hltn 'sport = :$1' | grep -q LISTEN; do sleep 0.2; done"; }
relay() {  # relay <listen> <target>: Start-SocketRelay in a pwsh of its own, ended by closing its input
    mkfifo -m 600 "$WORK/in-$1"
    (cd "$REPO" && XDG_CACHE_HOME=$WORK/cache-$1 exec $T dotnet pwsh -NoProfile -Command \
        "Import-Module '$MANIFEST'; \$null = Start-SocketRelay -ListenPort $1 -ListenAddress Loopback -ComputerName 127.0.0.1 -Port $2; \$null = [Console]::In.ReadLine()" \
        < "$WORK/in-$1" > /dev/null) &
    PIDS+=($!)
    exec {fd}>"$WORK/in-$1"
}
socat_to() { $T socat -b 1048576 "TCP-LISTEN:$1,bind=127.0.0.1,reuseaddr,fork" "TCP:127.0.0.1:$2" 2>/dev/null & PIDS+=($!); }

cat > "$WORK/summary.py" <<'P'
import sys, statistics as st
names, rows = sys.argv[1].split(','), [l.split() for l in open(sys.argv[2])]
runs = {n: [float(v) for p, v in rows if p == n] for n in names}
for n in names: print(f"  {n:10} median {st.median(runs[n]):8.1f}  ({min(runs[n])}-{max(runs[n])}, {len(runs[n])} rounds)")
a, b = runs[names[0]], runs[names[1]]
better = sum((x > y) if sys.argv[3] == 'higher' else (x < y) for x, y in zip(a, b))
print(f"  {names[0]} better in {better} of {len(a)} rounds")
P

# Bulk through iperf3.
SERVER=$(free_port); RELAY=$(free_port); SOCAT=$(free_port)
$T iperf3 -s -p "$SERVER" -B 127.0.0.1 > /dev/null 2>&1 & PIDS+=($!)
relay "$RELAY" "$SERVER"; socat_to "$SOCAT" "$SERVER"
for p in "$SERVER" "$RELAY" "$SOCAT"; do wait_port "$p"; done
bulk() { timeout 120 $T iperf3 -c 127.0.0.1 -p "$1" -n "$2" -l 1M -J 2>/dev/null \
    | python3 -c 'import json,sys; e=json.load(sys.stdin)["end"]["sum_received"]; print(round(e["bytes"]/e["seconds"]/1048576))'; }
bulk "$RELAY" 512M > /dev/null; bulk "$SOCAT" 512M > /dev/null
for i in $(seq 1 "$ROUNDS"); do
    if [ $((i % 2)) = 1 ]; then order="relay socat"; else order="socat relay"; fi
    for n in $order; do if [ $n = relay ]; then echo "relay $(bulk "$RELAY" 1G)"; else echo "socat $(bulk "$SOCAT" 1G)"; fi; done
done > "$WORK/bulk.txt"
echo "1 GiB, iperf3 -> forwarder -> iperf3, MiB/s (CPUs $CPUS):"
python3 "$WORK/summary.py" relay,socat "$WORK/bulk.txt" higher

# Round trips to an echo server.
ECHO=$(free_port); RELAY2=$(free_port); SOCAT2=$(free_port)
cat > "$WORK/echo.py" <<'P'
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen(16)
def serve(c):
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while (b := c.recv(65536)): c.sendall(b)
    c.close()
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
P
cat > "$WORK/pingpong.py" <<'P'
import socket, sys, time
def run(port, count):
    c = socket.create_connection(('127.0.0.1', port), timeout=10); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    start = time.perf_counter()
    for _ in range(count):
        c.sendall(b'x' * 64); got = 0
        while got < 64:
            b = c.recv(64 - got)
            if not b: raise SystemExit('the forwarder closed')
            got += len(b)
    took = time.perf_counter() - start; c.close(); return took / count * 1e6
names, ports, rounds = ['relay', 'socat'], [int(sys.argv[1]), int(sys.argv[2])], int(sys.argv[3])
for p in ports: run(p, 3000)
for r in range(rounds):
    for i in ([0, 1] if r % 2 == 0 else [1, 0]): print(names[i], round(run(ports[i], 3000), 1))
P
$T python3 "$WORK/echo.py" "$ECHO" & PIDS+=($!)
relay "$RELAY2" "$ECHO"; socat_to "$SOCAT2" "$ECHO"
for p in "$ECHO" "$RELAY2" "$SOCAT2"; do wait_port "$p"; done
timeout 600 $T python3 "$WORK/pingpong.py" "$RELAY2" "$SOCAT2" "$ROUNDS" > "$WORK/rt.txt"
echo "64-byte round trip through the forwarder, microseconds (CPUs $CPUS):"
python3 "$WORK/summary.py" relay,socat "$WORK/rt.txt" lower
