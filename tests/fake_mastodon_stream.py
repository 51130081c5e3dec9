"""A local Mastodon streaming endpoint: a WebSocket server on 127.0.0.1 answering /api/v1/streaming as Mastodon
does (a bearer token, then {"type": "subscribe", "stream": ...} messages, then events
{"stream": [...], "event": "update"|"delete", "payload": "<JSON string>"}). The REST side (the catch-up) is
the suite's FakeMastodon on pytest-httpserver."""
from __future__ import annotations

import json
import threading
import time


class FakeMastodonStream:
    def __init__(self, token: str | None = None) -> None:
        from websockets.sync.server import serve

        self.token = token
        self.subscriptions: list[dict] = []
        self.sessions = 0
        self.frames: list[str] = []      # pushed to the live connection(s), in order
        self.drop_next = False           # close the current connection after its next frame
        self._stop = threading.Event()
        self.server = serve(self._session, "127.0.0.1", 0, max_size=None)
        self.url = f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def update(self, status: dict, tag: str | None = None) -> None:
        stream = ["hashtag", tag] if tag else ["public"]
        self.frames.append(json.dumps({"stream": stream, "event": "update", "payload": json.dumps(status)}))

    def delete(self, status_id: str, tag: str) -> None:
        self.frames.append(json.dumps({"stream": ["hashtag", tag], "event": "delete", "payload": status_id}))

    def _session(self, connection) -> None:
        auth = connection.request.headers.get("Authorization")
        if self.token and auth != f"Bearer {self.token}":
            connection.close(1008, "unauthorized")
            return
        self.sessions += 1
        index = len(self.frames)  # live from now
        try:
            while not self._stop.is_set():
                try:
                    message = connection.recv(timeout=0.01)
                    self.subscriptions.append(json.loads(message))
                except TimeoutError:
                    pass
                if index < len(self.frames):
                    connection.send(self.frames[index])
                    index += 1
                    if self.drop_next:
                        self.drop_next = False
                        return
                else:
                    time.sleep(0.01)
        except Exception:  # noqa: BLE001, S110 - the client went away
            pass

    def close(self) -> None:
        self._stop.set()
        self.server.shutdown()
