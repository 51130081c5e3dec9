"""The JSON-lines file source: offsets as cursors, partial lines, rotation, bad lines."""
from __future__ import annotations

import json
import os

import pytest

from connectors.file import FileConnector, FileSourceConfig
from monitor.components import SourceError
from tests.support import write_jsonl


def connector(path, **cfg) -> FileConnector:
    return FileConnector("feed", FileSourceConfig(path=str(path), **cfg), brands=[])


def drain(conn, cursor):
    """Reads like the pipeline does: each batch's cursor holds once the batch is stored."""
    texts = []
    for batch in conn.fetch(cursor):
        texts += [p.text for p in batch.posts]
        cursor.update(batch.cursor)
    return texts


def test_reads_new_lines_only_after_each_stored_batch(tmp_path):
    feed = write_jsonl(tmp_path / "f.jsonl", [{"id": str(i), "text": f"post {i}"} for i in range(5)])
    conn, cursor = connector(feed, batch_size=2), {}
    assert drain(conn, cursor) == [f"post {i}" for i in range(5)]
    assert drain(conn, cursor) == []
    write_jsonl(feed, [{"id": "5", "text": "post 5"}])
    assert drain(conn, cursor) == ["post 5"]


def test_batches_are_bounded(tmp_path):
    feed = write_jsonl(tmp_path / "f.jsonl", [{"text": f"p{i}"} for i in range(25)])
    sizes = [len(b.posts) for b in connector(feed, batch_size=10).fetch({})]
    assert sizes == [10, 10, 5]


def test_uncommitted_batch_is_read_again(tmp_path):
    feed = write_jsonl(tmp_path / "f.jsonl", [{"text": f"p{i}"} for i in range(4)])
    conn = connector(feed, batch_size=2)
    first = next(iter(conn.fetch({})))
    # The batch was never stored (crash): the same cursor yields the same posts.
    again = next(iter(conn.fetch({})))
    assert [p.text for p in first.posts] == [p.text for p in again.posts]


def test_partial_last_line_waits_for_its_newline(tmp_path):
    feed = tmp_path / "f.jsonl"
    feed.write_text('{"text": "whole"}\n{"text": "hal')
    conn, cursor = connector(feed), {}
    assert drain(conn, cursor) == ["whole"]
    with feed.open("a") as f:
        f.write('f done"}\n')
    assert drain(conn, cursor) == ["half done"]


def test_bad_lines_are_counted_not_fatal(tmp_path):
    feed = write_jsonl(tmp_path / "f.jsonl", ['{"text": "ok 1"}', "not json", "[1, 2]", "", '{"text": "ok 2"}',
                                              '{"text": ' + "[" * 5000 + "}"])
    batches = list(connector(feed).fetch({}))
    assert [p.text for b in batches for p in b.posts] == ["ok 1", "ok 2"]
    assert sum(b.rejected for b in batches) == 3


def test_rotation_and_truncation_restart_from_the_top(tmp_path):
    feed = write_jsonl(tmp_path / "f.jsonl", [{"text": "old 1"}, {"text": "old 2"}])
    conn, cursor = connector(feed), {}
    drain(conn, cursor)
    os.replace(write_jsonl(tmp_path / "new.tmp", [{"text": "rotated"}]), feed)
    assert drain(conn, cursor) == ["rotated"]
    feed.write_text("")  # truncated in place
    write_jsonl(feed, [{"text": "after truncate"}])
    assert drain(conn, cursor) == ["after truncate"]


def test_folder_of_files_keeps_one_offset_each(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", [{"text": "a1"}])
    write_jsonl(tmp_path / "b.jsonl", [{"text": "b1"}])
    (tmp_path / "notes.txt").write_text("ignored")
    conn, cursor = connector(tmp_path), {}
    assert drain(conn, cursor) == ["a1", "b1"]
    write_jsonl(tmp_path / "b.jsonl", [{"text": "b2"}])
    assert drain(conn, cursor) == ["b2"]
    assert len(cursor) == 2


def test_missing_path_is_a_source_error(tmp_path):
    with pytest.raises(SourceError, match="does not exist"):
        list(connector(tmp_path / "absent.jsonl").fetch({}))


def test_corrupt_cursor_reads_from_start(tmp_path):
    feed = write_jsonl(tmp_path / "f.jsonl", [{"text": "x"}])
    assert drain(connector(feed), {f"offset:{feed}": "garbage"}) == ["x"]


def test_field_aliases(tmp_path):
    feed = write_jsonl(tmp_path / "f.jsonl", [{"id_str": "9", "full_text": "hi", "user": {"username": "ann"},
                                              "followers_count": 12, "lang": "en"}])
    post = next(iter(connector(feed).fetch({}))).posts[0]
    assert (post.external_id, post.text, post.author, post.author_reach, post.language) == ("9", "hi", "ann", 12, "en")


def test_cursor_is_json(tmp_path):
    feed = write_jsonl(tmp_path / "f.jsonl", [{"text": "x"}])
    batch = next(iter(connector(feed).fetch({})))
    value = json.loads(batch.cursor[f"offset:{feed}"])
    assert value["offset"] == feed.stat().st_size


def test_a_byte_order_mark_does_not_lose_the_first_post(tmp_path):
    feed = tmp_path / "bom.jsonl"
    feed.write_bytes(b'\xef\xbb\xbf{"id": "1", "text": "first"}\n{"id": "2", "text": "second"}\n')
    assert drain(connector(feed), {}) == ["first", "second"]


def test_shift_to_now_replays_a_recorded_file_as_if_live(tmp_path, clock_at):
    from datetime import UTC, datetime, timedelta

    now = datetime(2031, 3, 4, 12, 0, tzinfo=UTC)  # any moment: only the distance to the file's times counts
    clock_at(now)
    feed = write_jsonl(tmp_path / "f.jsonl", [
        {"id": "a", "text": "oldest", "created_at": "2020-01-01T00:00:00Z"},
        {"id": "b", "text": "naive time", "created_at": "2020-01-02T00:00:00"},
        {"id": "c", "text": "no time"},
        {"id": "d", "text": "unreadable time", "created_at": "last tuesday"},
        {"id": "e", "text": "newest", "created_at": "2020-01-03T06:00:00+02:00"}])
    conn, cursor = connector(feed, shift_to_now=True), {}
    posts = [p for batch in conn.fetch(cursor) for p in batch.posts]
    for batch in conn.fetch(cursor):
        cursor.update(batch.cursor)
    newest = now - timedelta(hours=1)
    shift = newest - datetime(2020, 1, 3, 4, 0, tzinfo=UTC)
    assert [(p.text, p.created_at) for p in posts] == [
        ("oldest", (datetime(2020, 1, 1, tzinfo=UTC) + shift).isoformat()),
        ("naive time", (datetime(2020, 1, 2, tzinfo=UTC) + shift).isoformat()),
        ("no time", None), ("unreadable time", "last tuesday"),
        ("newest", newest.isoformat())]
    # A restart a day later, and a line added meanwhile: the same shift, so the spacing stays.
    clock_at(now + timedelta(days=1))
    write_jsonl(feed, [{"id": "f", "text": "added", "created_at": "2020-01-03T05:00:00Z"}])
    [added] = [p for batch in connector(feed, shift_to_now=True).fetch(dict(cursor)) for p in batch.posts]
    assert added.created_at == (datetime(2020, 1, 3, 5, 0, tzinfo=UTC) + shift).isoformat()


def test_without_shift_to_now_times_are_kept(tmp_path):
    feed = write_jsonl(tmp_path / "f.jsonl", [{"id": "a", "text": "t", "created_at": "2020-01-01T00:00:00Z"}])
    [post] = [p for batch in connector(feed).fetch({}) for p in batch.posts]
    assert post.created_at == "2020-01-01T00:00:00Z"
