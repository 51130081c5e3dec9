"""Tails JSON-lines files of posts: imports from other tools, and the demo data.

One JSON object per line with at least ``text``; ``id``, ``author``,
``author_reach`` (or ``followers``), ``url``, ``lang``, ``created_at`` and
``brand`` are used when present. The byte offset of each file is the cursor,
so a restart continues where the last stored batch ended; a file that shrinks,
is rewritten or is replaced (log rotation) is read again from the start.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from pydantic import Field

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


@connectors.register("file")
class FileConnector(Connector):
    config_model = FileSourceConfig

    def describe(self) -> str:
        return f"file {self.config.path}"

    def _files(self) -> list[Path]:
        path = Path(self.config.path).expanduser()
        if path.is_dir():
            return sorted(p for p in path.glob(self.config.pattern) if p.is_file())
        if path.is_file():
            return [path]
        raise SourceError(f"{path} does not exist (sources.{self.name}.path)")

    def fetch(self, cursor: dict[str, str]) -> Iterator[Batch]:
        for path in self._files():
            yield from self._read(path, cursor)

    def _read(self, path: Path, cursor: dict[str, str]) -> Iterator[Batch]:
        key = f"offset:{path}"
        offset, inode, head = _position(cursor.get(key))
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
                post = self._parse(line, f"{path.name}@{at}")
                if post is None:
                    rejected += 1 if line.strip() else 0
                else:
                    posts.append(post)
                if len(posts) + rejected >= self.config.batch_size:
                    yield Batch(posts, {key: _encode(offset, stat.st_ino, _head(fd, offset))}, rejected)
                    posts, rejected = [], 0
            final = _encode(offset, stat.st_ino, _head(fd, offset))
        if posts or rejected or cursor.get(key) != final:
            yield Batch(posts, {key: final}, rejected)

    def _parse(self, line: bytes, ref: str) -> RawPost | None:
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
        return RawPost.from_mapping(data, ref)


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
