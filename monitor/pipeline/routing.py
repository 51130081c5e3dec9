"""Which alert routes a complaint takes, from the configured routes."""
from __future__ import annotations

from monitor.config import RouteConfig
from monitor.model import Route


class Router:
    """Matching routes, else the fallback ones."""

    def __init__(self, routes: list[RouteConfig]) -> None:
        self._routes = routes

    def routes_for(self, brand: str, topic: str, priority: float) -> list[Route]:
        def matches(r: RouteConfig) -> bool:
            return ((not r.brands or brand in r.brands) and (not r.topics or topic in r.topics)
                    and priority >= r.min_priority)

        routes = [r for r in self._routes if not r.escalation_only]
        chosen = [r for r in routes if not r.fallback and matches(r)]
        if not chosen:
            chosen = [r for r in routes if r.fallback and matches(r)]
        return [Route(r.name, r.sink, r.channel) for r in chosen]
