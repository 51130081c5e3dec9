"""Which brand a mention is about, and the brand's own rules: its own accounts, excluded terms, languages."""
from __future__ import annotations

from monitor.config import BrandConfig
from monitor.model import Mention
from monitor.pipeline.normalize import Rejected
from monitor.terms import term_pattern


class BrandFilter:
    """Assigns a mention to a brand and drops own posts, exclusions and other languages."""

    def __init__(self, brands: list[BrandConfig]) -> None:
        self._brands = brands
        self._by_name = {b.name.lower(): b for b in brands}
        self._terms = [(b, term_pattern(b.terms)) for b in brands]
        self._exclude = {b.name: term_pattern(b.exclude) for b in brands}
        self._own = {b.name: {a.lower().lstrip("@") for a in b.own_accounts} for b in brands}
        owners: dict[str, list[str]] = {}  # account -> the brands listing it: one lookup per post
        for name, accounts in self._own.items():
            for account in accounts:
                owners.setdefault(account, []).append(name)
        self._owners = {account: tuple(names) for account, names in owners.items()}

    def own_account(self, mention: Mention) -> tuple[str, ...]:
        """The brands whose own account wrote this post, whatever its words (a reply need not name the brand);
        empty for anyone else. One account may speak for several brands (a group's shared help desk)."""
        return self._owners.get(mention.author.lower().lstrip("@"), ())

    def assign(self, mention: Mention) -> Mention:
        brand = self._by_name.get(mention.brand.lower()) if mention.brand else None
        if brand is None:
            brand = next((b for b, pattern in self._terms if pattern.search(mention.text)), None)
        if brand is None:
            raise Rejected("mentions no configured brand")
        mention.brand = brand.name
        if mention.author.lower().lstrip("@") in self._own[brand.name]:
            raise Rejected(f"posted by {brand.name}'s own account")
        exclude = self._exclude[brand.name]
        if exclude is not None and (hit := exclude.search(mention.text)):
            raise Rejected(f"contains excluded term {hit.group(0)!r}")
        if brand.languages and mention.language and mention.language not in brand.languages:
            raise Rejected(f"language {mention.language!r} not in {brand.name}'s languages")
        return mention
