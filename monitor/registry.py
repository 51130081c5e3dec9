"""Decorator-based registries for sources and sinks.

A component registers itself where it is defined (``@connectors.register("x")``);
the registry discovers the modules of its package on first use, so adding a
component never means editing a central list.
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T", bound=type)


class Registry(Generic[T]):
    def __init__(self, kind: str, package: str) -> None:
        self.kind = kind
        self.package = package
        self._classes: dict[str, T] = {}
        self._discovered = False

    def register(self, type_name: str) -> Callable[[T], T]:
        def decorate(cls: T) -> T:
            if type_name in self._classes and self._classes[type_name] is not cls:
                raise RuntimeError(f"{self.kind} type {type_name!r} registered twice")
            cls.type_name = type_name
            self._classes[type_name] = cls
            return cls

        return decorate

    def _discover(self) -> None:
        if self._discovered:
            return
        package = importlib.import_module(self.package)
        for module in pkgutil.iter_modules(package.__path__):
            if not module.name.startswith("_"):
                importlib.import_module(f"{self.package}.{module.name}")
        self._discovered = True

    def get(self, type_name: str) -> T:
        self._discover()
        try:
            return self._classes[type_name]
        except KeyError:
            known = ", ".join(sorted(self._classes)) or "none"
            raise KeyError(f"unknown {self.kind} type {type_name!r} (known: {known})") from None

    def names(self) -> list[str]:
        self._discover()
        return sorted(self._classes)


connectors: Registry = Registry("source", "connectors")
sinks: Registry = Registry("sink", "alerts")
repliers: Registry = Registry("reply platform", "replies")
