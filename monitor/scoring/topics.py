"""Which complaint topic a post is about: the configured topic whose terms it mentions most."""
from __future__ import annotations

from monitor.scoring.phrases import PhraseMatcher


class TopicClassifier:
    def __init__(self, topics: dict[str, list[str]]) -> None:
        self.names = list(topics)
        self._matcher = PhraseMatcher()
        for topic, terms in topics.items():
            for term in terms:
                self._matcher.add(term.replace("{", "").replace("}", ""), topic, 1.0)

    def classify(self, tokens: list[str]) -> str:
        counts: dict[str, int] = {}
        for match in self._matcher.find(tokens):
            counts[match.rule] = counts.get(match.rule, 0) + 1
        if not counts:
            return "other"
        # Ties go to the topic listed first in the configuration.
        return max(self.names, key=lambda t: (counts.get(t, 0), -self.names.index(t)))
