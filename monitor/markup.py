"""Post bodies that arrive as HTML (Mastodon statuses, Hacker News comments, feed summaries) as plain text,
and text that cannot drive a terminal.

Paragraphs and line breaks become new lines, entities are decoded, scripts and styles are dropped, and a
link keeps its target when the visible text does not already show it ("read this (https://...)"), so an
agent sees where a post points. Never raises: malformed markup yields whatever text it holds.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCKS = {"p", "br", "div", "li", "blockquote", "pre", "tr", "h1", "h2", "h3", "h4", "h5", "h6"}
_SKIP = {"script", "style", "template"}
_SPACES = re.compile(r"[ \t\r\f\v]+")
_LINES = re.compile(r"\n\s*\n\s*(\n\s*)+")
# C0/C1 controls except tab and newline, DEL, and bidi embeddings/overrides/isolates
# (which can make a post display as something else).
UNSAFE_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff]")
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*(\x07|\x1b\\)")


def strip_controls(text: str) -> str:
    """Text that cannot drive a terminal: escape sequences, control characters and bidi overrides removed."""
    if "\x1b" in text:
        text = _ANSI_ESCAPE.sub("", text)
    return UNSAFE_CHARS.sub("", text)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.links: list[tuple[str, int]] = []  # (href, len(parts) when the <a> opened)

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in _SKIP:
            self.skipping += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self.links.append((href, len(self.parts)))

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            shown = "".join(self.parts[start:]).strip()
            if href.startswith(("http://", "https://")) and not _shows(shown, href):
                self.parts.append(f" ({href})")
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def _shows(shown: str, href: str) -> bool:
    """Mastodon shortens the URLs it shows ("example.com/long…"); those count as shown."""
    bare = href.split("://", 1)[-1].rstrip("/")
    visible = shown.rstrip("…").rstrip(".").split("://", 1)[-1].rstrip("/")
    return bool(visible) and (bare.startswith(visible) or visible.startswith(bare)) or shown.startswith(("#", "@"))


def html_to_text(markup: str) -> str:
    if "<" not in markup and "&" not in markup:
        return markup.strip()
    parser = _Text()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:  # noqa: BLE001, S110 - html.parser is lenient; keep whatever it read
        pass
    text = "".join(parser.parts)  # entities were decoded once by the parser (convert_charrefs)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _LINES.sub("\n\n", "\n".join(lines)).strip()
