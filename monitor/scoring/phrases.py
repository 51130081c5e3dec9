"""Tokens and phrase patterns: the tokenizer every rule sees, and a trie that finds many patterns in one pass.

A pattern is words with slots: ``{a|b}`` alternatives (``{a|}`` optional), ``*`` any one token, ``#`` a number.
"""
from __future__ import annotations

import re
from typing import NamedTuple

from monitor.scoring import lexicon as lx

_TOKEN = re.compile(r"[\w']+")
_DIGIT = re.compile(r"\d")
_GLUED_NUMBER = re.compile(r"(\d)([a-z])")
_SLOT = re.compile(r"\{[^}]*\}|\S+")
_END = "$"


def tokenize(text: str) -> list[str]:
    lower = text.lower().replace("’", "'").replace("‘", "'")
    if _DIGIT.search(lower):
        lower = _GLUED_NUMBER.sub(r"\1 \2", lower)
    tokens = []
    for raw in _TOKEN.findall(lower):
        token = raw.strip("'")
        if token:
            tokens.append(lx.CONTRACTIONS.get(token, token))
    return tokens


_QUOTE = re.compile(r'["“”]')


def quoted_tokens(text: str) -> set[int]:
    """Indices (into ``tokenize(text)``) of the tokens between a pair of double quotes: words the writer
    quotes from someone else. An unclosed quote quotes nothing."""
    segments = _QUOTE.split(text)
    inside, index = set(), 0
    for number, segment in enumerate(segments):
        count = len(tokenize(segment))
        if number % 2 == 1 and number < len(segments) - 1:
            inside.update(range(index, index + count))
        index += count
    return inside


def _is_number(token: str) -> bool:
    return token.isdigit() or token in lx.NUMBER_WORDS


def _expand(pattern: str) -> list[tuple[str, ...]]:
    """'{a|b} c {d|}' -> [(a, c, d), (a, c), (b, c, d), (b, c)]."""
    sequences: list[tuple[str, ...]] = [()]
    for slot in _SLOT.findall(pattern.lower()):
        options = slot[1:-1].split("|") if slot.startswith("{") else [slot]
        variants = [tuple(tokenize(o)) if o not in ("*", "#") else (o,) for o in options]
        sequences = [seq + v for seq in sequences for v in variants]
    return [s for s in sequences if s]


class Match(NamedTuple):  # a tuple: millions are made at volume, and a frozen dataclass costs 4x more
    rule: str
    start: int
    end: int
    weight: float


class PhraseMatcher:
    """Finds token patterns in a token list in one pass, using a token trie."""

    def __init__(self) -> None:
        self._root: dict = {}

    def add(self, pattern: str, rule: str, weight: float = 0.0) -> None:
        for seq in _expand(pattern):
            node = self._root
            for token in seq:
                node = node.setdefault(token, {})
            node.setdefault(_END, []).append((rule, weight))

    def find(self, tokens: list[str]) -> list[Match]:
        """Every pattern occurrence, in the order a depth-first walk meets them: exact token, then ``*``,
        then ``#`` (callers break ties between equal matches by this order)."""
        found: list[Match] = []
        root = self._root
        numbers = "#" in root
        n = len(tokens)
        for i, token in enumerate(tokens):
            if token not in root and not (numbers and _is_number(token)):
                continue
            stack = [(root, i)]  # explicit stack: a recursive walk costs a call per token tried
            while stack:
                node, j = stack.pop()
                if j > i and _END in node:
                    found.extend([Match(rule, i, j, weight) for rule, weight in node[_END]])
                if j >= n:
                    continue
                token_j = tokens[j]
                # Pushed in reverse of the order they are walked.
                if "#" in node and _is_number(token_j):
                    stack.append((node["#"], j + 1))
                if "*" in node and j > i:
                    stack.append((node["*"], j + 1))
                child = node.get(token_j)
                if child is not None:
                    stack.append((child, j + 1))
        return found
