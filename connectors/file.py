"""Tails JSON-lines files of posts: imports from other tools, and the demo data.

One JSON object per line with at least ``text``; ``id``, ``author``,
``author_reach`` (or ``followers``), ``url``, ``lang``, ``created_at`` and
``brand`` are used when present. The byte offset of each file is the cursor,
so a restart continues where the last stored batch ended; a file that shrinks,
is rewritten or is replaced (log rotation) is read again from the start.

With ``shift_to_now`` a recorded file replays as if it were live (the demo): when a file is first read, every
post's time moves by one amount so that its newest post is an hour old, and that amount stays with the
file's cursor, so a restart or lines added later keep the same spacing.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field

from monitor import clock
from monitor.components import Connector, SourceError
from monitor.config import Duration, SourceConfig
from monitor.model import Batch, RawPost
from monitor.registry import connectors

log = logging.getLogger(__name__)
HEAD_BYTES = 256


class FileSourceConfig(SourceConfig):
    path: str = Field(description="a .jsonl file, or a folder of them")
    pattern: str = Field("*.jsonl", description="file name pattern when path is a folder")
    interval: Duration = Field(10.0, ge=0.01, description="time between checks for new lines")
    shift_to_now: bool = Field(False, description="replay a recorded file as if live: move every post's time by "
                               "one amount so the file's newest post is an hour old when it is first read")
    platform: Literal["x", "reddit", "bluesky", "mastodon", "googleplay", "appstore"] | None = Field(
        None, description="the network the file's posts were exported from (their id and url as that network "
        "gives them), so agents can answer them there; empty: posts from a file cannot be answered")


@connectors.register("file")
class FileConnector(Connector):
    config_model = FileSourceConfig

    def describe(self) -> str:
        return f"file {self.config.path}" + (" (replayed as if live)" if self.config.shift_to_now else "")

    def _files(self) -> list[Path]:
        path = Path(self.config.path).expanduser()
        if path.is_dir():
            return sorted(p for p in path.glob(self.config.pattern) if p.is_file())
        if path.is_file():
            return [path]
        raise SourceError(f"{path} does not exist (sources.{self.name}.path)")

    def probe(self) -> str:
        files = self._files()
        if not files:
            return f"{self.config.path} holds no {self.config.pattern} files yet"
        for path in files:
            try:
                with path.open("rb") as handle:
                    handle.read(1)
            except OSError as exc:
                raise SourceError(f"cannot read {path}: {exc.strerror or exc} (sources.{self.name}.path)") from None
        size = sum(p.stat().st_size for p in files)
        return f"{len(files)} file(s) readable, {size:,} bytes"

    def fetch(self, cursor: dict[str, str]) -> Iterator[Batch]:
        for path in self._files():
            yield from self._read(path, cursor)

    def _read(self, path: Path, cursor: dict[str, str]) -> Iterator[Batch]:
        key = f"offset:{path}"
        offset, inode, head = _position(cursor.get(key))
        shift, kept = self._shift(path, cursor)
        posts: list[RawPost] = []
        rejected = 0
        with path.open("rb") as handle:
            fd = handle.fileno()
            stat = os.fstat(fd)
            if offset and (inode != stat.st_ino or offset > stat.st_size or _head(fd, offset) != head):
                # Rotated, or truncated and rewritten (perhaps past the old offset): start over.
                log.warning("source=%s %s was replaced or truncated; reading it from the start", self.name, path)
                offset = 0
            handle.seek(offset)
            while True:
                line = handle.readline()
                if not line.endswith(b"\n"):
                    break  # end of file, or a line still being written: read it next time
                at = offset
                offset += len(line)
                post = self._parse(line, f"{path.name}@{at}", shift)
                if post is None:
                    rejected += 1 if line.strip() else 0
                else:
                    posts.append(post)
                if len(posts) + rejected >= self.config.batch_size:
                    yield Batch(posts, {key: _encode(offset, stat.st_ino, _head(fd, offset)), **kept}, rejected)
                    posts, rejected = [], 0
            final = _encode(offset, stat.st_ino, _head(fd, offset))
        if posts or rejected or cursor.get(key) != final:
            yield Batch(posts, {key: final, **kept}, rejected)

    def _shift(self, path: Path, cursor: dict[str, str]) -> tuple[timedelta | None, dict[str, str]]:
        """How far to move this file's post times (shift_to_now), and the cursor entry that keeps it."""
        if not self.config.shift_to_now:
            return None, {}
        key = f"shift:{path}"
        try:
            seconds = float(cursor[key])
        except (KeyError, ValueError):
            with path.open("rb") as handle:
                newest = max(filter(None, map(_created_at, handle)), default=None)
            seconds = ((clock.utcnow() - timedelta(hours=1)) - newest).total_seconds() if newest else 0.0
        return timedelta(seconds=seconds), {key: f"{seconds:.0f}"}

    def _parse(self, line: bytes, ref: str, shift: timedelta | None = None) -> RawPost | None:
        if not line.strip():
            return None
        try:
            data = json.loads(line.decode("utf-8", errors="replace").lstrip("\ufeff"))  # a BOM on the first line
        except (ValueError, RecursionError) as exc:
            log.info("source=%s rejected %s: not valid JSON (%s)", self.name, ref, str(exc)[:80])
            return None
        if not isinstance(data, dict):
            log.info("source=%s rejected %s: expected a JSON object, got %s", self.name, ref, type(data).__name__)
            return None
        when = _time(data.get("created_at")) if shift else None
        if when is not None:
            data["created_at"] = (when + shift).astimezone(UTC).isoformat()
        return RawPost.from_mapping(data, ref)


def _time(value) -> datetime | None:
    """An ISO 8601 time with its zone (a naive one is UTC), or None."""
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _created_at(line: bytes) -> datetime | None:
    try:
        data = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return _time(data.get("created_at")) if isinstance(data, dict) else None


def _head(fd: int, offset: int) -> str:
    """Fingerprint of the file's first bytes (up to the offset): tells a rewritten file from a grown one."""
    return hashlib.sha1(os.pread(fd, min(offset, HEAD_BYTES), 0), usedforsecurity=False).hexdigest()[:16]


def _position(value: str | None) -> tuple[int, int | None, str | None]:
    if not value:
        return 0, None, None
    try:
        data = json.loads(value)
        return int(data["offset"]), data.get("inode"), data.get("head")
    except (ValueError, KeyError, TypeError):
        return 0, None, None


def _encode(offset: int, inode: int, head: str | None) -> str:
    return json.dumps({"offset": offset, "inode": inode, "head": head})
