"""A local Jetstream: a WebSocket server on 127.0.0.1 that speaks Jetstream's JSON (commit events with
``did``, ``time_us``, ``kind`` and ``commit``), honours ``cursor`` (events after that time) and
``wantedCollections``, and can misbehave on cue: drop the connection after some events, send frames that
are not events or are too large, or say nothing at all."""
from __future__ import annotations

import json
import threading
import time
from urllib.parse import parse_qs, urlsplit

from monitor import clock


class FakeJetstream:
    def __init__(self) -> None:
        from websockets.sync.server import serve

        self.events: list[dict] = []          # in time order; appended ones are pushed to live connections
        self.sessions: list[dict] = []        # per connection: the query it asked with
        self.drop_after: list[int] = []       # for the next connections: close after this many events
        self.first_frames: list[str] = []     # sent once, before the events, on the next connection
        self.silent = False                   # accept, then send nothing
        self.clock_us = int(clock.timestamp() * 1_000_000) - 60_000_000
        self.serial = 0
        self._stop = threading.Event()
        self.server = serve(self._session, "127.0.0.1", 0, max_size=None)
        self.port = self.server.socket.getsockname()[1]
        self.url = f"ws://127.0.0.1:{self.port}/subscribe"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def post(self, text: str, did: str = "did:plc:ann123", reply_to: str | None = None, step_us: int = 1000) -> str:
        """A post created now-ish; returns its at:// URI."""
        self.serial += 1
        self.clock_us += step_us
        rkey = f"3l{self.serial:011d}"
        now = clock.utcnow()
        record = {"$type": "app.bsky.feed.post", "text": text, "langs": ["en"],
                  "createdAt": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"}
        if reply_to:
            record["reply"] = {"root": {"uri": reply_to, "cid": "bafy"}, "parent": {"uri": reply_to, "cid": "bafy"}}
        self.events.append({"did": did, "time_us": self.clock_us, "kind": "commit", "commit": {
            "rev": f"3l{self.serial}", "operation": "create", "collection": "app.bsky.feed.post", "rkey": rkey,
            "record": record, "cid": f"bafyrei{self.serial:020d}"}})
        return f"at://{did}/app.bsky.feed.post/{rkey}"

    def delete(self, uri: str) -> None:
        """The author deletes a post: a commit with operation delete and no record."""
        did, _, rkey = uri.removeprefix("at://").partition("/app.bsky.feed.post/")
        self.clock_us += 1000
        self.events.append({"did": did, "time_us": self.clock_us, "kind": "commit", "commit": {
            "rev": f"3l{self.serial}d", "operation": "delete", "collection": "app.bsky.feed.post", "rkey": rkey}})

    def other(self, kind: str = "identity") -> None:
        """An event that is not a post (identity, account, a like): it moves the clock, nothing else."""
        self.clock_us += 1000
        self.events.append({"did": "did:plc:zed", "time_us": self.clock_us, "kind": kind,
                            kind: {"did": "did:plc:zed", "seq": self.serial}})

    def _session(self, connection) -> None:
        query = parse_qs(urlsplit(connection.request.path).query)
        cursor = int(query["cursor"][0]) if "cursor" in query else None
        index = len(self.events) if cursor is None else 0  # no cursor: live from now, as Jetstream does
        self.sessions.append(query)  # after the start is fixed: a test that saw the session may post at once
        limit = self.drop_after.pop(0) if self.drop_after else None
        sent = 0
        try:
            while self.first_frames:
                connection.send(self.first_frames.pop(0))
            while not self._stop.is_set():
                if self.silent:
                    time.sleep(0.02)
                    continue
                if index < len(self.events):
                    event = self.events[index]
                    index += 1
                    if cursor is not None and event["time_us"] <= cursor:
                        continue
                    connection.send(json.dumps(event))
                    sent += 1
                    if limit is not None and sent >= limit:
                        return  # the server drops the connection
                else:
                    time.sleep(0.01)
        except Exception:  # noqa: BLE001, S110 - the client went away
            pass

    def close(self) -> None:
        self._stop.set()
        self.server.shutdown()
