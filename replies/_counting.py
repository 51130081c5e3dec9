"""How each network counts a reply's length, so an over-long reply is refused here with the network's own
figure instead of by the network after the agent pressed Send.

- Bluesky counts graphemes (user-perceived characters): an emoji family or a flag is one.
- X weighs code points (most scripts 2, Latin and common punctuation 1, out of 280), counts every link as
  23 (t.co), and an emoji sequence as 2 (twitter-text's configuration v3).
- Mastodon counts characters, a link as 23 and a mention @user@domain as @user.
"""
from __future__ import annotations

import re
import unicodedata

URL = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
MASTODON_MENTION = re.compile(r"(?<![\w/])(@\w+)@[\w.-]+\w", re.UNICODE)
LINK_LENGTH = 23

ZWJ = "\u200d"
REGIONAL = range(0x1F1E6, 0x1F200)
MODIFIERS = range(0x1F3FB, 0x1F400)      # skin tones
TAGS = range(0xE0020, 0xE0080)           # subdivision flags' tag characters
# twitter-text's ranges of weight 1 (out of 2): Latin, combining marks, general punctuation.
LIGHT = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))


def _extends(char: str) -> bool:
    """Whether ``char`` belongs to the grapheme before it (UAX #29's Extend and SpacingMark, simplified)."""
    code = ord(char)
    return (unicodedata.category(char) in ("Mn", "Me", "Mc") or 0xFE00 <= code <= 0xFE0F
            or code in MODIFIERS or code in TAGS or char == ZWJ)


def graphemes(text: str) -> list[str]:
    """``text`` split into extended grapheme clusters: base + marks, emoji ZWJ sequences, flag pairs,
    CR LF, and Hangul syllables kept together."""
    clusters: list[str] = []
    for char in text:
        if clusters and _joins(clusters[-1], char):
            clusters[-1] += char
        else:
            clusters.append(char)
    return clusters


def _joins(cluster: str, char: str) -> bool:
    last, code = cluster[-1], ord(char)
    if last == "\r" and char == "\n":
        return True
    if _extends(char) or last == ZWJ:
        return True
    if code in REGIONAL and ord(last) in REGIONAL:
        return sum(ord(c) in REGIONAL for c in cluster) % 2 == 1  # pairs: the third starts a new flag
    return _hangul_joins(last, char)


def _hangul_joins(last: str, char: str) -> bool:
    prev, code = ord(last), ord(char)
    leading, vowel, trailing = range(0x1100, 0x1160), range(0x1160, 0x11A8), range(0x11A8, 0x1200)
    syllable = 0xAC00 <= prev <= 0xD7A3
    return ((prev in leading and (code in leading or code in vowel or 0xAC00 <= code <= 0xD7A3))
            or ((prev in vowel or (syllable and (prev - 0xAC00) % 28 == 0)) and (code in vowel or code in trailing))
            or ((prev in trailing or syllable) and code in trailing))


def grapheme_count(text: str) -> int:
    return len(graphemes(text))


def _is_emoji(cluster: str) -> bool:
    return any(ord(c) >= 0x1F000 or c == ZWJ or 0x2600 <= ord(c) <= 0x27BF for c in cluster)


def x_weighted_length(text: str) -> int:
    """X's count out of 280, as X shows it to the author."""
    text = unicodedata.normalize("NFC", text)
    weight, position = 0, 0
    for link in URL.finditer(text):
        weight += _weigh(text[position:link.start()]) + LINK_LENGTH
        position = link.end()
    return weight + _weigh(text[position:])


def _weigh(text: str) -> int:
    total = 0
    for cluster in graphemes(text):
        if _is_emoji(cluster):
            total += 2
            continue
        total += sum(1 if any(lo <= ord(c) <= hi for lo, hi in LIGHT) else 2 for c in cluster)
    return total


def mastodon_length(text: str) -> int:
    text = URL.sub("x" * LINK_LENGTH, text)
    return len(MASTODON_MENTION.sub(r"\1", text))
