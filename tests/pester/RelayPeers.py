"""Peers for the relay tests, loopback only, every wait bounded.

echo-server            prints its port, echoes every connection until the peer half-closes, then closes; runs
                       until stdin closes (or 300 s).
clients PORT N C SIZE  N connections to PORT, C at a time: each sends SIZE random bytes, half-closes, reads to the
                       end and compares SHA-256; prints "ok N" or the first failure, exit code 0 or 1.
"""
import hashlib
import os
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor


def echo(conn):
    with conn:
        conn.settimeout(60)
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                conn.sendall(data)
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def echo_server():
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(512)
    server.settimeout(0.2)
    print(server.getsockname()[1], flush=True)
    stop = threading.Event()

    def watch_stdin():
        sys.stdin.read()
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    deadline = time.monotonic() + 300
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            conn, _ = server.accept()
        except socket.timeout:
            continue
        threading.Thread(target=echo, args=(conn,), daemon=True).start()
    server.close()


def one_client(port, size):
    payload = os.urandom(size)
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        sender = threading.Thread(target=lambda: (s.sendall(payload), s.shutdown(socket.SHUT_WR)))
        sender.start()
        chunks = []
        while True:
            data = s.recv(65536)
            if not data:
                break
            chunks.append(data)
        sender.join(60)
    got = b"".join(chunks)
    if hashlib.sha256(got).digest() != hashlib.sha256(payload).digest():
        return "sha-256 differs: sent %d bytes, got %d" % (size, len(got))
    return None


def clients(port, count, concurrency, size):
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(lambda _: one_client(port, size), range(count)))
    failures = [r for r in results if r]
    if failures:
        print("failed %d of %d: %s" % (len(failures), count, failures[0]), flush=True)
        return 1
    print("ok %d" % count, flush=True)
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "echo-server":
        echo_server()
    else:
        sys.exit(clients(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])))
