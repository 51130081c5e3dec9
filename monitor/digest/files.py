"""Writes the digest's files under its directory without following symbolic links.

Whoever can write into the digest directory must not be able to aim the service's writes elsewhere: the
brand folder is opened with O_NOFOLLOW, each file is written to a fresh temporary file in that folder
(O_CREAT | O_EXCL | O_NOFOLLOW) and renamed over the final name, which replaces a link rather than writing
through it. Readers see the old report or the new one, never half of one.
"""
from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

_DIRECTORY_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)


class UnsafePath(OSError):
    """A link (or something other than a folder) where the digest writes."""


class DigestFolder:
    """The digest directory (the operator's choice, which may itself be a link) and a folder per brand."""

    def __init__(self, directory: str | os.PathLike) -> None:
        self.root = Path(directory)

    @contextmanager
    def replace(self, folder: str, name: str, mode: str = "w", **open_args) -> Iterator[IO]:
        """A file object for ``folder/name``: written to a temporary file, renamed into place on success."""
        for part in (folder, name):
            if not part or part in (".", "..") or "/" in part or "\0" in part:
                raise UnsafePath(errno.EINVAL, f"not a plain file or folder name: {part!r}")
        self.root.mkdir(parents=True, exist_ok=True)
        root_fd = os.open(self.root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            folder_fd = self._open_folder(root_fd, folder)
        finally:
            os.close(root_fd)
        temporary = f".{name}.{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(temporary, _NEW_FILE_FLAGS, 0o644, dir_fd=folder_fd)
            try:
                with open(fd, mode, **open_args) as out:
                    yield out
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temporary, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
            except BaseException:
                _remove(temporary, folder_fd)
                raise
        finally:
            os.close(folder_fd)

    def write(self, folder: str, name: str, text: str) -> Path:
        with self.replace(folder, name, encoding="utf-8") as out:
            out.write(text)
        return self.path(folder, name)

    def path(self, folder: str, name: str) -> Path:
        return self.root / folder / name

    def _open_folder(self, root_fd: int, folder: str) -> int:
        try:
            os.mkdir(folder, 0o755, dir_fd=root_fd)
        except FileExistsError:
            pass
        try:
            return os.open(folder, _DIRECTORY_FLAGS, dir_fd=root_fd)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise UnsafePath(exc.errno, f"{self.root / folder} is a link or not a folder: the digest does not "
                                            "write through links; remove it") from None
            raise


def _remove(name: str, folder_fd: int) -> None:
    try:
        os.unlink(name, dir_fd=folder_fd)
    except FileNotFoundError:
        pass
