"""Every registered source and sink is tested, documented, and declares a documented config schema."""
from __future__ import annotations

import importlib
import pkgutil

import pytest

from monitor.components import Connector, Replier, Sink
from monitor.registry import connectors, repliers, sinks
from tests.support import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def shipped(package: str) -> list[tuple[str, str]]:
    """(module, type name) of each component shipped in a package (test-only components excluded)."""
    found = []
    for info in pkgutil.iter_modules(importlib.import_module(package).__path__):
        module = importlib.import_module(f"{package}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__ == module.__name__ and hasattr(value, "type_name") \
                    and issubclass(value, (Connector, Sink, Replier)):
                found.append((info.name, value.type_name))
    return found


COMPONENTS = [("connector", m, t, connectors) for m, t in shipped("connectors")] + \
             [("sink", m, t, sinks) for m, t in shipped("alerts")] + \
             [("replier", m, t, repliers) for m, t in shipped("replies")]


def test_registries_find_the_shipped_components():
    assert "file" in connectors.names() and "console" in sinks.names()


@pytest.mark.parametrize("kind, module, type_name, reg", COMPONENTS, ids=[c[2] for c in COMPONENTS])
def test_component_has_tests_docs_and_described_options(kind, module, type_name, reg):
    assert (ROOT / "tests" / f"test_{kind}_{module}.py").exists(), f"tests/test_{kind}_{module}.py is missing"
    key = "platform" if kind == "replier" else "type"
    assert f"`{key}: {type_name}`" in README, f"README does not document the {type_name} {kind}"
    cls = reg.get(type_name)
    assert cls.__doc__ or importlib.import_module(cls.__module__).__doc__
    for name, field in cls.config_model.model_fields.items():
        assert field.description, f"{type_name}: option {name} has no description"
        assert f"`{field.alias or name}`" in README, f"README does not document {type_name} option {name}"
