"""Which complaint topic a post is about: the configured topic whose terms it mentions most."""
from __future__ import annotations

from collections.abc import Iterable

from monitor.scoring.phrases import Match, PhraseMatcher

PREFIX = "topic:"  # the rule name of a topic term's match, in a matcher shared with other rules


class TopicClassifier:
    def __init__(self, topics: dict[str, list[str]], matcher: PhraseMatcher) -> None:
        """The topic terms join ``matcher``, so one walk of a post's tokens finds them and the caller's own
        patterns; ``pick`` then reads the topic matches out of that walk."""
        self.names = list(topics)
        self._rank = {name: -i for i, name in enumerate(self.names)}  # ties go to the topic listed first
        for topic, terms in topics.items():
            for term in terms:
                matcher.add(term.replace("{", "").replace("}", ""), PREFIX + topic)  # counted, not weighed

    def pick(self, matches: Iterable[Match]) -> str:
        counts: dict[str, int] = {}
        for match in matches:
            if match.rule.startswith(PREFIX):
                topic = match.rule[len(PREFIX):]
                counts[topic] = counts.get(topic, 0) + 1
        if not counts:
            return "other"
        return max(counts, key=lambda t: (counts[t], self._rank[t]))
