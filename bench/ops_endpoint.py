"""The HTTP endpoint under attack: how fast /healthz answers while each attack runs, and how long redaction
takes on hostile text of growing size.

    python bench/ops_endpoint.py            # every attack, 20 probes each

Starts the real endpoint on 127.0.0.1 with the Slack click route (real signature checks, real slack-bolt),
then for each attack: start it, probe /healthz 20 times on fresh connections, stop it. Prints each probe
series as min / median / max milliseconds, and for redaction the time per size and the ratio between sizes
(linear work: about 4x per 4x the input). Every attack is bounded in connections and seconds and stays on
127.0.0.1. Exit status 1 when a probe took over a second or failed.
"""
from __future__ import annotations

import socket
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alerts._slack_actions import SlackActions  # noqa: E402
from monitor.ops.redact import redactor  # noqa: E402
from monitor.ops.server import OpsServer  # noqa: E402

PROBES = 20
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # noqa: S105 - made up: nothing signs with it


def probe(port: int) -> float:
    """One /healthz on a fresh connection; its time in ms, or inf when it failed or took over 5 s."""
    started = time.perf_counter()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            answer = sock.recv(100)
    except OSError:
        return float("inf")
    return (time.perf_counter() - started) * 1000 if answer.startswith(b"HTTP/1.1 200") else float("inf")


def idle_sockets(port: int, stop: threading.Event) -> None:
    held = []
    while not stop.is_set() and len(held) < 200:
        held.append(socket.create_connection(("127.0.0.1", port), timeout=5))
    stop.wait(30)
    for sock in held:
        sock.close()


def slowloris(port: int, stop: threading.Event) -> None:
    """50 connections, each sending a request head one byte every 0.1 s, reopened when closed."""
    socks: list[socket.socket | None] = [None] * 50
    deadline = time.monotonic() + 30
    while not stop.is_set() and time.monotonic() < deadline:
        for i, sock in enumerate(socks):
            try:
                if sock is None:
                    sock = socks[i] = socket.create_connection(("127.0.0.1", port), timeout=5)
                sock.send(b"X")
            except OSError:
                if sock is not None:
                    sock.close()
                socks[i] = None
        time.sleep(0.1)
    for sock in socks:
        if sock is not None:
            sock.close()


def unsigned_megabytes(port: int, stop: threading.Event) -> None:
    """Unsigned 1 MB bodies of text that made the old redactor backtrack, back to back."""
    body = b"a://b:" + b"c" * 999_994
    head = (f"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
            f"X-Slack-Request-Timestamp: {int(time.time())}\r\nX-Slack-Signature: v0={'0' * 64}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n\r\n").encode()
    deadline = time.monotonic() + 30
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(head + body)
                sock.recv(100)
        except OSError:
            pass


def negative_lengths(port: int, stop: threading.Event) -> None:
    """Content-Length: -1 followed by a stream of bytes, as fast as the server takes them."""
    deadline = time.monotonic() + 30
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n")
                for _ in range(100):
                    sock.sendall(b"z" * 65536)
        except OSError:
            pass


ATTACKS = {"none": None, "200 idle connections": idle_sockets, "slowloris x50": slowloris,
           "unsigned 1 MB bodies": unsigned_megabytes, "Content-Length: -1 streams": negative_lengths}


def main() -> int:
    from slack_sdk import WebClient

    # Unsigned requests never reach Slack: the client points nowhere and is never called.
    nowhere = WebClient(token="xoxb-unused", base_url="http://127.0.0.1:9/")  # noqa: S106 - never called
    actions = SlackActions(nowhere, lambda request: None, SECRET)
    server = OpsServer("127.0.0.1", 0, lambda: (True, "ok"), lambda: (True, "ok"),
                       posts={"/slack/events": actions.dispatch_http})
    server.start()
    worst = 0.0
    print(f"/healthz while under attack ({PROBES} probes each, fresh connection per probe), ms")
    try:
        for name, attack in ATTACKS.items():
            stop = threading.Event()
            thread = threading.Thread(target=attack, args=(server.port, stop), daemon=True) if attack else None
            if thread:
                thread.start()
                time.sleep(1.0)  # let the attack build up
            times = []
            for _ in range(PROBES):
                times.append(probe(server.port))
                time.sleep(0.05)
            stop.set()
            if thread:
                thread.join(35)
            worst = max(worst, max(times))
            print(f"  {name:<28} min {min(times):7.1f}  median {statistics.median(times):7.1f}  "
                  f"max {max(times):7.1f}   connections evicted so far: {server.connections.evicted}")
    finally:
        server.stop()
    print("redaction of hostile text (URL prefix with no @: 'a://b:' + 'c' * n), best of 3")
    previous = None
    for size in (65_536, 262_144, 1_048_576):
        text = "a://b:" + "c" * size
        best = min(_timed(redactor, text) for _ in range(3))
        ratio = f"   x{best / previous:.1f} for x4 the size" if previous else ""
        print(f"  {size:>9,} chars  {best * 1000:8.2f} ms{ratio}")
        previous = best
    verdict = "ok" if worst <= 1000 else "MISSED"
    print(f"slowest /healthz probe: {worst:.1f} ms (target: within 1000 ms) {verdict}")
    return 0 if worst <= 1000 else 1


def _timed(fn, arg) -> float:
    started = time.perf_counter()
    fn(arg)
    return time.perf_counter() - started


if __name__ == "__main__":
    sys.exit(main())
