"""Labels: from case buttons, `monitor label`, and files imported whole or not at all; exported as the label
that counts per post. On SQLite and PostgreSQL."""
from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from monitor.cli import cli
from monitor.model import CaseAction
from monitor.service import MonitorService
from tests.support import BRANDS, RecordingSink, build_config, write_jsonl


@pytest.fixture
def setup(tmp_path, db_url):
    write_jsonl(tmp_path / "feed.jsonl", [
        {"id": "1", "text": "@pixelcart still no refund after 3 weeks", "author": "ann"},
        {"id": "2", "text": "pixelcart is lovely", "author": "bob"}])
    svc = MonitorService(build_config(tmp_path, db_url))
    svc.prepare()
    svc.run_once()
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"database": {"url": db_url}, "brands": BRANDS,
                                    "sources": {"feed": {"type": "file", "path": str(tmp_path / "feed.jsonl")}},
                                    "alerts": {"sinks": {"rec": {"type": "test-recording"}}}}))
    yield svc, path
    svc.close()


def run(path, *args):
    return CliRunner().invoke(cli, ["--config", str(path), *args])


def exported(path) -> list[dict]:
    return [json.loads(line) for line in run(path, "labels", "export").stdout.splitlines()]


def test_labels_from_buttons_commands_and_files_and_the_newest_counts(setup, tmp_path):
    svc, path = setup
    [alert] = RecordingSink.sent["rec"]
    svc.desk.act(CaseAction(alert.case.id, "dismiss", "<@U0ANN>", "slack"))  # not a complaint, says the team
    assert run(path, "label", str(alert.mention_id), "complaint", "--as", "bob").exit_code == 0  # changed mind
    assert run(path, "label", "99999", "not", "--as", "bob").exit_code == 1
    feed = tmp_path / "labels.jsonl"
    feed.write_text('{"text": "my parcel never came", "complaint": true, "brand": "Pixelcart"}\n'
                    '\n'
                    '{"text": "thanks for the quick refund", "complaint": false}\n')
    result = run(path, "labels", "import", str(feed), "--as", "research")
    assert result.exit_code == 0 and result.stdout == "2 label(s) imported: 1 complaint(s), 1 not\n"
    rows = exported(path)
    assert [(r["text"], r["complaint"], r["by"], r["origin"]) for r in rows] == [
        ("@pixelcart still no refund after 3 weeks", True, "bob", "cli"),
        ("my parcel never came", True, "research", "import"),
        ("thanks for the quick refund", False, "research", "import")]
    assert rows[0]["mention_id"] == alert.mention_id and rows[0]["brand"] == "Pixelcart"
    assert run(path, "label", str(alert.mention_id), "not", "--as", "cy").exit_code == 0  # relabelled last
    assert [(r["text"], r["complaint"], r["by"]) for r in exported(path)] == [
        ("my parcel never came", True, "research"), ("thanks for the quick refund", False, "research"),
        ("@pixelcart still no refund after 3 weeks", False, "cy")]
    # What export writes, import reads back.
    again = tmp_path / "again.jsonl"
    again.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert run(path, "labels", "import", str(again)).exit_code == 0


@pytest.mark.parametrize("content, problem", [
    ('{"text": "fine", "complaint": true}\nnot json\n', "line 2: not valid JSON"),
    ('{"text": "no label"}\n', 'line 1: "complaint" is missing (true or false)'),
    ('{"text": "a", "complaint": "yes"}\n', 'line 1: "complaint" must be true or false, got "yes"'),
    ('{"text": "a", "complaint": 1}\n', 'line 1: "complaint" must be true or false, got 1'),
    ('{"text": "", "complaint": false}\n', 'line 1: "text": empty text'),
    ('{"text": 42, "complaint": false}\n', 'line 1: "text": text is int, not a string'),
    ('[1, 2]\n', "line 1: expected a JSON object, got list"),
    ('{"text": "a", "complaint": true, "brand": 7}\n', 'line 1: "brand" must be a name of at most 128 characters'),
    ("\n\n", "no labels in it"),
])
def test_a_bad_label_file_imports_nothing_and_says_where(setup, tmp_path, content, problem):
    svc, path = setup
    bad = tmp_path / "bad.jsonl"
    bad.write_text(content)
    result = run(path, "labels", "import", str(bad))
    assert result.exit_code == 2 and problem in result.stderr and "nothing imported" in result.stderr
    assert exported(path) == []


def test_a_huge_label_file_is_refused_unread(setup, tmp_path):
    svc, path = setup
    huge = tmp_path / "huge.jsonl"
    with huge.open("wb") as f:
        f.truncate(100 * 1024 * 1024)  # 100 MB (sparse: nothing is written)
    result = run(path, "labels", "import", str(huge))
    assert result.exit_code == 2 and "is 104,857,600 bytes; a labels file may have at most 20,971,520" in result.stderr


def test_many_problems_are_listed_up_to_twenty(setup, tmp_path):
    svc, path = setup
    bad = tmp_path / "bad.jsonl"
    bad.write_text("nope\n" * 25)
    result = run(path, "labels", "import", str(bad))
    assert "line 20: not valid JSON" in result.stderr and "line 21" not in result.stderr
    assert "... and 5 more" in result.stderr
