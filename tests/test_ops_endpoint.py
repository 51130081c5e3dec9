"""The HTTP endpoint against hostile clients, on the wire: real sockets to the running server on 127.0.0.1.
Every attack is bounded in count and time, and after each one /healthz must still answer."""
from __future__ import annotations

import socket
import threading
import time

import pytest

from monitor.ops.server import Limits, OpsServer

SHORT = Limits(idle_timeout=0.5, request_timeout=1.0, max_connections=64, max_per_client=8, max_body=1024,
               check_timeout=1.0, handler_timeout=2.0, post_workers=2, max_pending_posts=3)


def serve(limits: Limits = SHORT, posts=None, healthy=lambda: (True, "ok")) -> OpsServer:
    server = OpsServer("127.0.0.1", 0, healthy, lambda: (False, "not ready"), posts=posts, limits=limits)
    server.start()
    return server


@pytest.fixture
def echo():
    """A server whose POST /echo answers the body's length; /slow waits for the test to release it."""
    release = threading.Event()

    def slow(body, headers):
        release.wait(10)
        return 200, b"done", {}

    server = serve(posts={"/echo": lambda body, headers: (200, str(len(body)).encode(), {"X-Seen": "yes"}),
                          "/slow": slow})
    yield server
    release.set()
    server.stop()


def connect(server: OpsServer, timeout: float = 5.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=timeout)


def exchange(server: OpsServer, raw: bytes, timeout: float = 5.0) -> bytes:
    """Sends raw bytes and reads until the server closes (or the timeout)."""
    with connect(server, timeout) as sock:
        sock.sendall(raw)
        return read_all(sock)


def read_all(sock: socket.socket) -> bytes:
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except (TimeoutError, ConnectionResetError):
        pass
    return b"".join(chunks)


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/1.1 ") else 0


def health(server: OpsServer) -> tuple[int, float]:
    """/healthz's status and how long it took, on a fresh connection (a 5 s bound: never a hang)."""
    started = time.monotonic()
    answer = exchange(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    return status_of(answer), time.monotonic() - started


def test_head_answers_like_get_without_a_body(echo):
    for path, status in ((b"/healthz", 200), (b"/readyz", 503), (b"/metrics", 200)):
        get = exchange(echo, b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        head = exchange(echo, b"HEAD " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        get_head, get_body = get.split(b"\r\n\r\n", 1)
        length = int(next(line.split(b":")[1] for line in get_head.split(b"\r\n")
                          if line.lower().startswith(b"content-length")))
        assert status_of(get) == status_of(head) == status
        assert len(get_body) == length > 0 and head.endswith(b"\r\n\r\n")  # HEAD: the same length, no body
        assert f"content-length: {length}".encode() in head.lower()


def test_a_post_reaches_its_route_with_body_and_headers(echo):
    answer = exchange(echo, b"POST /echo?x=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
    assert status_of(answer) == 200 and answer.endswith(b"\r\n\r\n5") and b"x-seen: yes" in answer.lower()
    chunked = exchange(echo, b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                             b"3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n")
    assert status_of(chunked) == 200 and chunked.endswith(b"\r\n\r\n7")


def test_a_client_waiting_for_100_continue_is_told_to_send_its_body(echo):
    with connect(echo) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 100 ")
        sock.sendall(b"body")
        answer = read_all(sock)
    assert status_of(answer) == 200 and answer.endswith(b"\r\n\r\n4")
    refused = exchange(echo, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n")
    assert status_of(refused) == 413  # over the cap: refused instead of asking for the body


def test_one_connection_carries_several_requests(echo):
    with connect(echo) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.2)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answers = read_all(sock)
    assert answers.count(b"HTTP/1.1 200") == 2 and answers.count(b"HTTP/1.1 503") == 1


@pytest.mark.parametrize("head, status", [
    (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400),         # lifted the cap before
    (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: lots\r\n\r\n", 400),       # a traceback before
    (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1e3\r\n\r\n", 400),
    (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400),
    (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
    (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1025\r\n\r\n", 413),       # over max_body: not read
    (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " + b"9" * 400 + b"\r\n\r\n", 400),  # overflow
    (b"POST /echo HTTP/1.1\r\nHost: x\r\n\r\n", 411),
    (b"POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx", 404),
    (b"DELETE /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 405),
    (b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n", 404),
    (b"GET /healthz HTTP/1.1\r\n\r\n", 400),                                         # no Host
    (b"BLAH\r\n\r\n", 400),
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000, 431),          # head over max_head
])
def test_bad_framing_is_answered_before_any_body_is_read(echo, head, status):
    started = time.monotonic()
    answer = exchange(echo, head)  # the body, if any, is never sent: the answer must not wait for it
    assert status_of(answer) == status, answer[:200]
    assert time.monotonic() - started < 4  # answered, not timed out by the client's 5 s bound
    assert health(echo)[0] == 200


def test_a_chunked_body_is_cut_off_at_the_cap(echo):
    with connect(echo) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        sent = 0
        try:
            for _ in range(64):  # 64 x 512 bytes: far over the 1 KB cap if the server kept reading
                sock.sendall(b"200\r\n" + b"z" * 512 + b"\r\n")
                sent += 512
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = read_all(sock)
    assert status_of(answer) == 413 and b"over 1024 bytes" in answer


def test_idle_connections_are_closed_after_the_idle_timeout(echo):
    sockets = [connect(echo) for _ in range(3)]
    try:
        started = time.monotonic()
        assert all(sock.recv(100) == b"" for sock in sockets)  # closed by the server, no request ever sent
        assert time.monotonic() - started < 4
    finally:
        for sock in sockets:
            sock.close()


def test_two_hundred_idle_connections_do_not_keep_health_probes_out(echo):
    sockets = []
    try:
        for _ in range(200):
            sockets.append(connect(echo))
        status, _ = health(echo)
        assert status == 200
        assert echo.connections.evicted >= 200 - SHORT.max_per_client  # the oldest idle ones made room
        assert len(echo.connections.open) <= SHORT.max_per_client
    finally:
        for sock in sockets:
            sock.close()


def test_a_connection_being_answered_is_never_the_one_evicted():
    release = threading.Event()
    server = serve(posts={"/slow": lambda body, headers: (200 if release.wait(10) else 500, b"done", {})})
    try:
        busy = connect(server)  # the oldest connection, waiting for its answer
        busy.sendall(b"POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        time.sleep(0.2)
        idle = [connect(server) for _ in range(SHORT.max_per_client + 4)]  # past the per-client bound
        time.sleep(0.2)
        assert server.connections.evicted >= 4
        release.set()
        answer = read_all(busy)
        assert status_of(answer) == 200 and answer.endswith(b"done")
        for sock in idle:
            sock.close()
        busy.close()
    finally:
        release.set()
        server.stop()


def test_slow_clients_are_cut_off_at_the_request_timeout(echo):
    """Slowloris: a head trickled a few bytes at a time, and a body likewise, never finish within 1 s."""
    trickles = [b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 400,
                b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\n\r\n" + b"b" * 900]
    for raw in trickles:
        with connect(echo) as sock:
            started, closed, answer = time.monotonic(), False, b""
            for i in range(0, len(raw), 3):
                try:
                    sock.sendall(raw[i:i + 3])
                    time.sleep(0.05)
                except (BrokenPipeError, ConnectionResetError):
                    closed = True
                    break
                if time.monotonic() - started > 3:
                    break
                assert health(echo)[0] == 200 if i % 60 == 0 else True  # probes get through meanwhile
            answer = read_all(sock)
        assert closed or answer == b"" or status_of(answer) == 408
        assert time.monotonic() - started < 4.5


def test_health_answers_while_every_post_worker_is_busy(echo):
    blocked = []
    try:
        for _ in range(SHORT.post_workers + SHORT.max_pending_posts):
            sock = connect(echo)
            sock.sendall(b"POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
            blocked.append(sock)
        time.sleep(0.3)
        assert health(echo)[0] == 200  # checks have threads of their own
        busy = exchange(echo, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx")
        assert status_of(busy) == 503 and b"retry-after: 1" in busy.lower()  # refused at once, not queued
    finally:
        for sock in blocked:
            sock.close()


def test_a_slow_health_check_answers_503_in_time():
    release = threading.Event()
    server = serve(healthy=lambda: (release.wait(5), "ok"))
    try:
        status, _ = health(server)
        assert status == 503  # after check_timeout (1 s), not after the check's 5 s
    finally:
        release.set()
        server.stop()


def test_stop_returns_while_a_handler_is_stuck():
    stuck = threading.Event()
    server = serve(posts={"/stuck": lambda body, headers: (200 if stuck.wait(30) else 500, b"", {})})
    sock = connect(server)
    sock.sendall(b"POST /stuck HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    time.sleep(0.2)
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 4 and not server.thread.is_alive()
    server.stop()  # a second stop (the service's and a test's) is harmless
    sock.close()
    stuck.set()
