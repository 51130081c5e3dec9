"""Scoring: VADER sentiment plus the complaint detector (rules, lexicon, topics, priority), and the worker
pool that scores large batches."""
from monitor.scoring.phrases import tokenize
from monitor.scoring.scorer import ComplaintScorer

__all__ = ["ComplaintScorer", "tokenize"]
