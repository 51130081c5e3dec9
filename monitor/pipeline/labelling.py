"""The labelling queue over the store: the unlabelled posts most worth a label, scored by the detector every
instance uses (the active model, or the rules), each pick recorded. For `monitor labels next` and the digest's
"worth a label" items."""
from __future__ import annotations

from monitor.scoring.label_queue import Pick, pick_for_labelling
from monitor.scoring.learned import make_scorer


class LabellingQueue:
    def __init__(self, store, scoring, topics) -> None:
        self.store, self.scoring, self.topics = store, scoring, topics

    def next(self, count: int, brand: str | None = None, source: str | None = None,
             posted: tuple | None = None) -> list[Pick]:
        active = self.store.models.active()
        scorer = make_scorer(self.scoring, self.topics, active[1] if active else None)
        threshold = getattr(scorer, "threshold", self.scoring.complaint_threshold)
        candidates = self.store.labels.unlabelled(brand, source, posted=posted)
        labelled = (r["text"] for r in self.store.labels.newest())
        picks = pick_for_labelling(candidates, scorer, threshold, count, labelled)
        self.store.labels.record_picks([(p.mention_id, p.kind, p.confidence) for p in picks])
        return picks

    def for_digest(self, brand: str, start, end, count: int = 5) -> list[dict]:
        """The day's posts of a brand most worth a label, as the digest lists them."""
        return [{"mention_id": p.mention_id, "text": p.text, "url": p.url,
                 "why": "random pick" if p.kind == "random" else f"unsure ({p.confidence:.2f})"}
                for p in self.next(count, brand, posted=(start, end))]
