"""Learning from labels: cross-validated against the rules on the same labels, stored in the database as plain
arrays, activated only when better, used by every instance, the pipeline and `monitor score`; retrained only
when labels are new. On SQLite and PostgreSQL."""
from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from monitor.cli import cli
from monitor.config import ScoringConfig
from monitor.scoring import ComplaintScorer
from monitor.scoring.learned import LearnedModel
from monitor.scoring.learning_run import retrain_if_new_labels, run_learning
from monitor.scoring.training import NotEnoughLabels
from monitor.service import MonitorService
from tests.support import BRANDS, RecordingSink, build_config, write_jsonl

# The team knows what the rules cannot: a "zorblax" is the brand's broken gadget, so these are complaints.
HIDDEN = [{"text": f"pixelcart my zorblax from order {i} is here", "complaint": True} for i in range(30)]
PRAISE = [{"text": f"pixelcart my parcel from order {i} is here, lovely", "complaint": False} for i in range(30)]


def import_labels(store, records, actor="research"):
    from monitor.pipeline.label_file import _record

    store.labels.import_texts([_record(json.dumps(r)) for r in records], actor)


@pytest.fixture
def svc(tmp_path, db_url):
    service = MonitorService(build_config(tmp_path, db_url))
    service.prepare()
    yield service
    service.close()


def test_a_model_that_beats_the_rules_is_stored_and_activated(svc):
    import_labels(svc.store, HIDDEN + PRAISE)
    outcome = run_learning(svc.store.labels, svc.store.models, ScoringConfig(), None)
    assert (outcome.evaluation.labels, outcome.evaluation.complaints) == (60, 30)
    assert outcome.evaluation.rules.f1 == 0.0 and outcome.evaluation.model.f1 == 1.0
    assert outcome.activated and svc.store.models.active()[0] == outcome.version
    report = outcome.report()
    assert "rules alone     P 0.000  R 0.000  F1 0.000" in report and "learned model   P 1.000  R 1.000  F1 1.000" \
        in report and f"model {outcome.version} stored and active" in report


def test_a_model_that_does_not_beat_the_rules_is_kept_inactive(svc):
    scorer = ComplaintScorer()
    texts = [f"pixelcart order {i} {w}" for i in range(30) for w in ("never arrived, still waiting", "arrived, thanks")]
    import_labels(svc.store, [{"text": t, "complaint": scorer.score(t).is_complaint} for t in texts])
    outcome = run_learning(svc.store.labels, svc.store.models, ScoringConfig(), None)
    assert outcome.evaluation.rules.f1 == 1.0  # the labels are the rules' own verdicts: nothing to beat
    assert not outcome.activated and svc.store.models.active() is None
    assert "stored but not active: it does not beat the rules" in outcome.report()


def test_too_few_labels_are_not_learned_from(svc):
    import_labels(svc.store, HIDDEN[:3] + PRAISE[:30])
    with pytest.raises(NotEnoughLabels, match="33 label\\(s\\), 3 complaint\\(s\\)"):
        run_learning(svc.store.labels, svc.store.models, ScoringConfig(), None)


def test_every_instance_and_the_pipeline_score_with_the_active_model(tmp_path, db_url, svc):
    import_labels(svc.store, HIDDEN + PRAISE)
    run_learning(svc.store.labels, svc.store.models, ScoringConfig(), None)
    write_jsonl(tmp_path / "feed.jsonl", [{"id": "z1", "text": "pixelcart my zorblax from order 77 is here",
                                           "author": "ann"}])
    other = MonitorService(build_config(tmp_path, db_url))  # another instance, started after the training
    other.prepare()
    [result] = other.run_once()
    assert result.complaints == 1
    [alert] = RecordingSink.sent["rec"]
    [model_reason] = [r for r in alert.reasons if r["rule"] == "model"]
    assert model_reason["score"] >= 0.5 and "zorblax" in model_reason["terms"]
    other.close()


def test_retraining_happens_only_when_labels_are_new(svc):
    import_labels(svc.store, HIDDEN + PRAISE)
    first = retrain_if_new_labels(svc.store.labels, svc.store.models, ScoringConfig(), None)
    assert first is not None and first.activated
    assert retrain_if_new_labels(svc.store.labels, svc.store.models, ScoringConfig(), None) is None
    import_labels(svc.store, [{"text": "pixelcart my zorblax died again", "complaint": True}])
    again = retrain_if_new_labels(svc.store.labels, svc.store.models, ScoringConfig(), None)
    assert again is not None and again.version > first.version and again.evaluation.labels == 61


def test_the_stored_model_is_plain_arrays_and_a_foreign_layout_is_refused(svc):
    import_labels(svc.store, HIDDEN + PRAISE)
    run_learning(svc.store.labels, svc.store.models, ScoringConfig(), None)
    _, data = svc.store.models.active()
    header = json.loads(data.partition(b"\n")[0])
    assert header["format"] == 2 and header["dense"][:5] == ["rules_confidence", "rules_decision", "compound",
                                                              "negative", "positive"]
    assert {"rule:waiting", "rule:billing", "rule:left_in_the_dark", "rule:to_brand"} <= set(header["dense"])
    model = LearnedModel.from_bytes(data)
    assert LearnedModel.from_bytes(model.to_bytes()).coef.tobytes() == model.coef.tobytes()
    with pytest.raises(ValueError, match="another layout"):
        LearnedModel.from_bytes(data[:-4])
    renamed = {**header, "dense": header["dense"][:-1] + ["rule:a_shape_since_removed"]}
    with pytest.raises(ValueError, match="another layout"):  # the rules changed: its flags mean other shapes
        LearnedModel.from_bytes(json.dumps(renamed).encode() + b"\n" + data.partition(b"\n")[2])
    header["char_ngrams"] = [3, 5]  # trained with other n-grams: its weights would mean other things
    with pytest.raises(ValueError, match="another layout"):
        LearnedModel.from_bytes(json.dumps(header).encode() + b"\n" + data.partition(b"\n")[2])


def cli_config(tmp_path, db_url):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"database": {"url": db_url}, "brands": BRANDS,
                                    "sources": {"feed": {"type": "file", "path": "x.jsonl"}}}))
    return path


def test_learn_and_score_from_the_command_line(tmp_path, db_url, svc):
    path = cli_config(tmp_path, db_url)
    posts = "pixelcart my zorblax from order 12 is here\npixelcart still no refund after 3 weeks\n"
    rules_only = CliRunner().invoke(cli, ["--config", str(path), "score"], input=posts)
    no_config = CliRunner().invoke(cli, ["--config", str(tmp_path / "absent.yaml"), "score"], input=posts)
    assert rules_only.stdout == no_config.stdout  # no model: exactly the rules' output
    labels = tmp_path / "labels.jsonl"
    labels.write_text("\n".join(json.dumps(r) for r in HIDDEN + PRAISE) + "\n")
    assert CliRunner().invoke(cli, ["--config", str(path), "labels", "import", str(labels)]).exit_code == 0
    dry = CliRunner().invoke(cli, ["--config", str(path), "learn", "--dry-run"])
    assert dry.exit_code == 0 and "dry run: nothing stored" in dry.stdout and svc.store.models.history() == []
    learned = CliRunner().invoke(cli, ["--config", str(path), "learn", "--folds", "3"])
    assert (
        learned.exit_code == 0 and "3-fold cross-validation" in learned.stdout and "stored and active" in learned.stdout
    )
    scored = [json.loads(x) for x in CliRunner().invoke(cli, ["--config", str(path), "score"], input=posts)
              .stdout.splitlines()]
    assert scored[0]["complaint"] is True and any(r["rule"] == "model" for r in scored[0]["reasons"])
    assert json.loads(rules_only.stdout.splitlines()[0])["complaint"] is False


def test_learn_without_enough_labels_says_so(tmp_path, db_url, svc):
    result = CliRunner().invoke(cli, ["--config", str(cli_config(tmp_path, db_url)), "learn"])
    assert result.exit_code == 1 and "not learning: 0 label(s)" in result.stderr


def test_top_terms_are_the_words_and_pairs_with_the_largest_weights(monkeypatch):
    from sklearn.utils import murmurhash3_32

    from monitor.scoring import learned

    coef = np.zeros(learned.WORD_FEATURES + learned.CHAR_FEATURES + len(learned.dense_names()), dtype=np.float32)
    for gram, weight in (("never arrived", 3.0), ("refund", 2.0), ("late", 1.0), ("my", -1.0)):
        coef[abs(murmurhash3_32(gram, seed=0)) % learned.WORD_FEATURES] = weight
    model = learned.LearnedModel(coef, 0.0)
    text = "My refund never arrived, late again"
    assert model.top_terms(text) == ["never arrived", "refund", "late"]
    assert model.top_terms(text, limit=1) == ["never arrived"]  # again, from the remembered weights
    monkeypatch.setattr(learned, "GRAM_CACHE", 2)  # forgets as it goes: the same answer
    assert model.top_terms("late, and my refund never arrived") == ["never arrived", "refund", "late"]


def test_probabilities_are_the_logistic_of_the_stacked_features():
    from monitor.scoring.learned import dense_features, features

    rules = ComplaintScorer()
    texts = [r["text"] for r in HIDDEN[:10] + PRAISE[:10]]
    dense = dense_features(rules.score_many([(t, 0) for t in texts]))
    model = LearnedModel.fit(texts, dense, [True] * 10 + [False] * 10)
    expected = 1.0 / (1.0 + np.exp(-(features(texts, dense) @ model.coef + model.intercept)))
    assert model.probabilities(texts, dense) == pytest.approx(expected, abs=1e-12)
    assert (model.probabilities(texts, dense) >= 0.5).tolist() == [True] * 10 + [False] * 10


def recording_fit(folds: list[tuple[list[str], list[str]]]):
    """A fold trainer for evaluate() that appends (texts trained on, texts asked about) for each fold."""

    def fit(train_texts, dense, labels):
        model, asked = LearnedModel.fit(train_texts, dense, labels), []
        folds.append((list(train_texts), asked))

        class Recording:
            def probabilities(self, test_texts, test_dense):
                asked.extend(test_texts)
                return model.probabilities(test_texts, test_dense)

        return Recording()

    return fit

def test_no_fold_is_tested_on_a_post_it_was_trained_on():
    from monitor.scoring.training import evaluate

    texts = [r["text"] for r in HIDDEN + PRAISE]
    truth = [r["complaint"] for r in HIDDEN + PRAISE]
    folds: list[tuple[list[str], list[str]]] = []  # (trained on, asked about) per fold
    evaluate(texts, truth, ComplaintScorer(), folds=5, fit=recording_fit(folds))
    assert len(folds) == 5
    for trained, asked in folds:
        assert set(trained).isdisjoint(asked)
        assert sorted(trained + asked) == sorted(texts)  # the rest of the posts, each once
        complaints = sum(t in {r["text"] for r in HIDDEN} for t in asked)
        assert complaints == len(asked) - complaints == 6  # stratified: 6 of each kind per fold
    assert sorted(t for _, asked in folds for t in asked) == sorted(texts)  # each post tested exactly once


def test_the_mark_of_labels_used_is_the_newest_label_id_not_how_many_counted(svc):
    import sqlalchemy as sa

    from monitor.store.schema import labels, models

    import_labels(svc.store, HIDDEN + PRAISE)
    import_labels(svc.store, PRAISE, actor="second look")  # the same 30 texts again: 60 count, 90 rows
    outcome = retrain_if_new_labels(svc.store.labels, svc.store.models, ScoringConfig(), None)
    assert outcome is not None and outcome.evaluation.labels == 60
    with svc.store.db.engine.connect() as conn:
        newest = conn.execute(sa.select(sa.func.max(labels.c.id))).scalar_one()
        mark = conn.execute(sa.select(models.c.last_label_id).where(models.c.id == outcome.version)).scalar_one()
    assert mark == newest and svc.store.models.last_trained_on() == newest
    # Nothing new since: the scheduled run does not train again (a count of 60 would look 30 labels behind).
    assert retrain_if_new_labels(svc.store.labels, svc.store.models, ScoringConfig(), None) is None


def test_learning_needs_40_labels_and_5_of_each_kind_by_default():
    from monitor.scoring.training import learn

    complaints = [r["text"] for r in HIDDEN]
    praise = [r["text"] for r in PRAISE]
    enough = complaints[:20] + praise[:20]
    evaluation, model = learn(enough, [True] * 20 + [False] * 20, ComplaintScorer())
    assert (evaluation.labels, evaluation.folds) == (40, 5) and model is not None
    with pytest.raises(NotEnoughLabels, match="39 label.*learning needs at least 40 labels with 5 or more"):
        learn(enough[1:], [True] * 19 + [False] * 20, ComplaintScorer())
    with pytest.raises(NotEnoughLabels, match="4 complaint"):
        learn(complaints[:4] + praise, [True] * 4 + [False] * 30, ComplaintScorer(), min_labels=34)
    with pytest.raises(NotEnoughLabels, match="34 label"):  # 30 complaints but only 4 that are not
        learn(complaints + praise[:4], [True] * 30 + [False] * 4, ComplaintScorer(), min_labels=34)
    five, _ = learn(complaints[:5] + praise, [True] * 5 + [False] * 30, ComplaintScorer(), min_labels=35)
    assert (five.labels, five.complaints) == (35, 5)  # exactly 5 of a kind is enough for 5 folds
    # A smaller minimum is honoured when asked for.
    few, _ = learn(complaints[:6] + praise[:6], [True] * 6 + [False] * 6, ComplaintScorer(), min_labels=12)
    assert few.labels == 12


def test_cross_validation_is_repeatable_and_uses_the_folds_asked_for():
    from monitor.scoring.training import evaluate

    texts = [r["text"] for r in HIDDEN + PRAISE]
    truth = [r["complaint"] for r in HIDDEN + PRAISE]

    def folds_of(folds: int) -> list[list[str]]:
        seen: list[tuple[list[str], list[str]]] = []
        evaluation, _ = evaluate(texts, truth, ComplaintScorer(), folds=folds, fit=recording_fit(seen))
        assert evaluation.folds == folds
        return [asked for _, asked in seen]

    three = folds_of(3)
    assert [len(f) for f in three] == [20, 20, 20]
    assert folds_of(3) == three  # the same split every run: figures can be compared across runs


def test_a_model_is_activated_only_when_its_gain_beats_its_fold_to_fold_spread():
    from monitor.scoring.training import Evaluation, Figures

    def evaluation(gains, model_f1=0.75):
        return Evaluation(100, 40, Figures(0.7, 0.7, 0.7), Figures(model_f1, model_f1, model_f1), 5, gains)

    steady = evaluation([0.04, 0.06, 0.05, 0.05, 0.05])
    assert steady.better and steady.gain == pytest.approx(0.05)
    noisy = evaluation([0.20, -0.10, 0.15, -0.05, 0.05])  # better on average, but within chance between folds
    assert noisy.gain == pytest.approx(0.05) and noisy.spread > noisy.gain and not noisy.better
    assert not evaluation([0.0] * 5, model_f1=0.7).better


def test_the_threshold_is_tuned_on_representative_labels_only():
    from monitor.scoring.training import tune_threshold

    # Half the complaints sit at 0.4, the other posts at 0.1: any cut from 0.12 to 0.40 separates them all, and
    # of those equally good cuts the one nearest 0.5 is kept.
    probabilities = np.array([0.6] * 20 + [0.4] * 20 + [0.1] * 30)
    truth = np.array([True] * 40 + [False] * 30)
    assert tune_threshold(probabilities, truth) == pytest.approx(0.4)
    assert tune_threshold(np.array([0.6] * 40 + [0.55] * 30), truth) == pytest.approx(0.56)  # 0.56-0.60 all do
    assert tune_threshold(probabilities[:25], truth[:25]) == 0.5  # too few, and only one kind: untouched
    from monitor.scoring.training import evaluate

    texts = [r["text"] for r in HIDDEN + PRAISE]
    labels = [r["complaint"] for r in HIDDEN + PRAISE]
    none_fair, _ = evaluate(texts, labels, ComplaintScorer(), representative=[False] * 60)
    assert none_fair.threshold == 0.5 and none_fair.representative == 0
    all_fair, _ = evaluate(texts, labels, ComplaintScorer(), representative=[True] * 60)
    assert all_fair.representative == 60


def test_history_and_rollback_from_the_command_line(tmp_path, db_url, svc):
    path = cli_config(tmp_path, db_url)
    runner = CliRunner()
    assert runner.invoke(cli, ["--config", str(path), "learn", "--history"]).stdout.startswith("no models yet")
    import_labels(svc.store, HIDDEN + PRAISE)
    first = run_learning(svc.store.labels, svc.store.models, ScoringConfig(), None)
    import_labels(svc.store, [{"text": f"pixelcart my zorblax {i} again", "complaint": True} for i in range(10)])
    second = run_learning(svc.store.labels, svc.store.models, ScoringConfig(), None)
    assert first.activated and second.activated and svc.store.models.active()[0] == second.version
    listed = runner.invoke(cli, ["--config", str(path), "learn", "--history"]).stdout.splitlines()
    assert len(listed) == 2 and listed[0].startswith(f"model {first.version} ") and "60 labels" in listed[0]
    assert listed[1].endswith("ACTIVE") and "70 labels" in listed[1] and "F1 1.000 vs rules" in listed[1]
    back = runner.invoke(cli, ["--config", str(path), "learn", "--rollback"])
    assert back.exit_code == 0 and f"model {first.version} is active again" in back.stdout
    assert svc.store.models.active()[0] == first.version
    rules = runner.invoke(cli, ["--config", str(path), "learn", "--rollback"])
    assert "the rules alone score every post" in rules.stdout and svc.store.models.active() is None
    assert runner.invoke(cli, ["--config", str(path), "learn", "--rollback"]).exit_code == 1


def test_the_service_retrains_once_a_batch_of_labels_came_in(svc):
    import_labels(svc.store, HIDDEN + PRAISE)
    scoring = ScoringConfig(retrain_after_labels=20)
    first = retrain_if_new_labels(svc.store.labels, svc.store.models, scoring, None, at_least=None)
    assert first is not None and first.activated  # 60 new labels
    import_labels(svc.store, [{"text": f"pixelcart zorblax number {i} dead", "complaint": True} for i in range(19)])
    assert retrain_if_new_labels(svc.store.labels, svc.store.models, scoring, None, at_least=None) is None
    import_labels(svc.store, [{"text": "pixelcart zorblax twenty dead", "complaint": True}])
    again = retrain_if_new_labels(svc.store.labels, svc.store.models, scoring, None, at_least=None)
    assert again is not None and again.evaluation.labels == 80


def test_learn_prints_the_learning_curve(svc):
    import_labels(svc.store, HIDDEN + PRAISE + [{"text": f"pixelcart my zorblax {i} again", "complaint": True}
                                                for i in range(40)] + [
        {"text": f"pixelcart order {i} came early, lovely", "complaint": False} for i in range(40)])
    outcome = run_learning(svc.store.labels, svc.store.models, ScoringConfig(), None)
    assert [n for n, _, _ in outcome.evaluation.curve] == [35, 70, 105, 140]
    report = outcome.report()
    assert "learning curve (labels: rules F1 / model F1): 35: " in report and "140: " in report
