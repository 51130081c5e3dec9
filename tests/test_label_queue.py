"""The labelling queue (`monitor labels next`) and labels by id: the posts the detector is least sure about come
first, one in four is a random pick recorded as such, labelled posts and copies of them are not asked again,
and a file of {"mention_id", "complaint"} lines goes in whole or not at all. On SQLite and PostgreSQL."""
from __future__ import annotations

import json
import random

import pytest
import yaml
from click.testing import CliRunner

from monitor.cli import cli
from monitor.model import Score
from monitor.scoring.label_queue import RANDOM_EVERY, near_duplicate_key, pick_for_labelling
from monitor.service import MonitorService
from tests.support import BRANDS, build_config, write_jsonl


class FixedConfidence:
    """A scorer whose confidence for a post is written in it ("conf=0.42 ...")."""

    def score_many(self, items):
        out = []
        for text, _ in items:
            confidence = float(text.split("conf=")[1].split()[0])
            out.append(Score(0.0, 0.0, 1.0, 0.0, confidence >= 0.5, confidence, [], "other", 0.0))
        return out


def candidates(confidences: list[float]) -> list[dict]:
    def word(i: int) -> str:  # a distinct word per post: numbers do not make posts different
        return "".join(chr(97 + int(d)) for d in str(i))

    return [{"mention_id": i + 1, "text": f"post {word(i)} conf={c}", "brand": "Pixelcart", "source": "feed"}
            for i, c in enumerate(confidences)]


def test_uncertain_posts_come_first_and_every_fourth_pick_is_random():
    confidences = [0.05, 0.95, 0.52, 0.30, 0.47, 0.9, 0.61, 0.2, 0.49, 0.7, 0.1, 0.35]
    picks = pick_for_labelling(candidates(confidences), FixedConfidence(), 0.5, 8, [], random.Random(7))
    kinds = [p.kind for p in picks]
    assert kinds == ["uncertain", "uncertain", "uncertain", "random"] * 2
    uncertain = [p.confidence for p in picks if p.kind == "uncertain"]
    assert uncertain == [0.49, 0.52, 0.47, 0.61, 0.35, 0.7]  # nearest the threshold first
    assert len({p.mention_id for p in picks}) == 8  # nobody asked twice
    assert all("random pick" in p.why for p in picks if p.kind == "random")
    assert picks[0].why == "the detector is unsure: confidence 0.49 against its threshold 0.50"
    assert picks[0].as_json() == {"mention_id": 9, "text": "post i conf=0.49", "brand": "Pixelcart",
                                  "source": "feed", "verdict": "not", "confidence": 0.49, "pick": "uncertain",
                                  "why": picks[0].why, "url": None}


def test_random_picks_are_spread_over_the_whole_pool():
    """Over many draws the random picks reach posts the detector is sure about, unlike the uncertain ones."""
    pool = candidates([0.01 * i for i in range(1, 100, 3)])
    reached = set()
    for seed in range(40):
        picks = pick_for_labelling(pool, FixedConfidence(), 0.5, RANDOM_EVERY, [], random.Random(seed))
        reached |= {p.confidence for p in picks if p.kind == "random"}
    assert min(reached) < 0.2 and max(reached) > 0.8


@pytest.mark.parametrize("labelled, text", [
    ("@pixelcart my order 1234 never came https://t.co/abc", "@PixelcartHelp my order 9876 never came http://x.co/q"),
    ("pixelcart refund still missing #fail", "Pixelcart refund still missing"),
])
def test_copies_of_a_labelled_post_are_not_asked_again(labelled, text):
    assert near_duplicate_key(labelled) == near_duplicate_key(text)
    pool = [{"mention_id": 1, "text": text + " conf=0.5", "brand": "P", "source": "s"},
            {"mention_id": 2, "text": "something else entirely conf=0.9", "brand": "P", "source": "s"}]
    picks = pick_for_labelling(pool, FixedConfidence(), 0.5, 5, [labelled + " conf=0.5"])
    assert [p.mention_id for p in picks] == [2]
    twice = [{**pool[0], "mention_id": 3}, pool[0], pool[1]]
    assert [p.mention_id for p in pick_for_labelling(twice, FixedConfidence(), 0.5, 5, [])] == [3, 2]


@pytest.fixture
def stored(tmp_path, db_url):
    posts = [{"id": str(i), "text": text, "author": f"u{i}"} for i, text in enumerate([
        "@pixelcart where is my order", "pixelcart is lovely", "pixelcart parcel never came, 3 weeks",
        "northwind flight ok i guess", "pixelcart app keeps logging me out", "@northwindair lost my bag again",
        "pixelcart delivery was fine", "hmm pixelcart changed the app", "northwind seats are small",
        "@pixelcart my order never came https://t.co/a"])]
    write_jsonl(tmp_path / "feed.jsonl", posts)
    svc = MonitorService(build_config(tmp_path, db_url))
    svc.prepare()
    svc.run_once()
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"database": {"url": db_url}, "brands": BRANDS,
                                    "sources": {"feed": {"type": "file", "path": str(tmp_path / "feed.jsonl")}}}))
    yield svc, path
    svc.close()


def run(path, *args):
    return CliRunner().invoke(cli, ["--config", str(path), *args])


def test_labels_next_from_the_command_line_skips_what_is_labelled_and_records_its_picks(stored):
    svc, path = stored
    ids = {m["text"]: m["mention_id"] for m in svc.store.labels.unlabelled()}
    assert run(path, "label", str(ids["@pixelcart where is my order"]), "complaint", "--as", "ann").exit_code == 0
    result = run(path, "labels", "next", "--count", "8")
    assert result.exit_code == 0, result.output
    picks = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(picks) == 8 and [p["pick"] for p in picks][3] == "random" and picks[0]["pick"] == "uncertain"
    assert set(picks[0]) == {"mention_id", "text", "brand", "source", "verdict", "confidence", "pick", "why", "url"}
    # Nine posts name a brand (@northwindair is not the term "northwind"); one is labelled: the other eight.
    assert sorted(p["text"] for p in picks) == sorted(t for t in ids if t != "@pixelcart where is my order")
    only = [json.loads(line) for line in run(path, "labels", "next", "--brand", "northwind air",
                                             "--count", "20").stdout.splitlines()]
    assert sorted(p["text"] for p in only) == ["northwind flight ok i guess", "northwind seats are small"]
    assert run(path, "labels", "next", "--source", "nowhere").stdout == ""
    # A label given to a random pick is representative: it may tune the model's threshold.
    random_pick = next(p for p in picks if p["pick"] == "random")
    uncertain_pick = picks[0]
    for pick in (random_pick, uncertain_pick):
        assert run(path, "label", str(pick["mention_id"]), "not", "--as", "ann").exit_code == 0
    fair = {r["mention_id"]: r["representative"] for r in svc.store.labels.newest()}
    assert fair[random_pick["mention_id"]] is True and fair[uncertain_pick["mention_id"]] is False
    assert fair[ids["@pixelcart where is my order"]] is False  # labelled from a case or by hand: chosen


def test_labels_by_id_go_in_whole_or_not_at_all(stored, tmp_path):
    svc, path = stored
    ids = sorted(m["mention_id"] for m in svc.store.labels.unlabelled())
    bad = tmp_path / "bad.jsonl"
    bad.write_text(f'{{"mention_id": {ids[0]}, "complaint": true}}\n'
                   '{"mention_id": 99999, "complaint": false}\n'
                   '{"text": "my parcel never came", "complaint": true}\n'
                   '{"mention_id": 88888, "complaint": true}\n')
    refused = run(path, "labels", "import", str(bad))
    assert refused.exit_code == 2
    assert "line 2: no stored post 99999" in refused.output and "line 4: no stored post 88888" in refused.output
    assert list(svc.store.labels.newest()) == []  # nothing half-imported
    for content, problem in (('{"mention_id": true, "complaint": true}', 'line 1: "mention_id" must be'),
                             ('{"mention_id": "12", "complaint": true}', 'line 1: "mention_id" must be'),
                             ('{"mention_id": 0, "complaint": true}', 'line 1: "mention_id" must be')):
        bad.write_text(content + "\n")
        result = run(path, "labels", "import", str(bad))
        assert result.exit_code == 2 and problem in result.output, result.output
    good = tmp_path / "good.jsonl"
    good.write_text(f'{{"mention_id": {ids[0]}, "complaint": true}}\n{{"mention_id": {ids[1]}, "complaint": false}}\n'
                    '{"text": "my parcel never came", "complaint": true}\n')
    imported = run(path, "labels", "import", str(good), "--as", "research")
    assert imported.exit_code == 0 and imported.stdout == "3 label(s) imported: 2 complaint(s), 1 not\n"
    rows = {r["mention_id"]: r for r in svc.store.labels.newest()}
    assert rows[ids[0]]["complaint"] is True and rows[ids[1]]["complaint"] is False
    assert rows[ids[0]]["text"] == next(m["text"] for m in [{"mention_id": ids[0], "text": rows[ids[0]]["text"]}])
    assert rows[None]["text"] == "my parcel never came" and rows[ids[0]]["brand"] in {"Pixelcart", "Northwind Air"}
    assert rows[ids[0]]["representative"] is True  # a bulk import is taken as a fair sample
