"""Reading config.yaml safely: no Python tags (safe loader), a bounded file size, and aliases that cannot
expand into millions of values ("billion laughs") or refer to themselves."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

MAX_CONFIG_BYTES = 1 << 20      # a real configuration is a few kilobytes
MAX_EXPANDED_VALUES = 100_000   # values once every alias is expanded; real configurations have hundreds


class YamlProblem(Exception):
    """The file cannot be used; the message says why, for the operator."""


def read_yaml(path: Path) -> Any:
    return read_yaml_lines(path)[0]


def read_yaml_lines(path: Path) -> tuple[Any, dict[str, int]]:
    """The document, and the line each key path starts on ("alerts.routes[0].sink" -> 42)."""
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise YamlProblem(f"{path} is {size:,} bytes; a configuration file may have at most "
                              f"{MAX_CONFIG_BYTES:,}")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise YamlProblem(f"file not found: {path}") from None
    except UnicodeDecodeError as exc:
        raise YamlProblem(f"{path} is not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise YamlProblem(f"cannot read {path}: {exc.strerror}") from None
    return parse_yaml_lines(text)


def parse_yaml(text: str) -> Any:
    return parse_yaml_lines(text)[0]


def parse_yaml_lines(text: str) -> tuple[Any, dict[str, int]]:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        _check_expansion(node)
        lines: dict[str, int] = {}
        _key_lines(node, "", lines, set())
        return loader.construct_document(node), lines
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        line = text.splitlines()[mark.line] if mark and mark.line < len(text.splitlines()) else ""
        problem = str(getattr(exc, "problem", None) or exc)
        raise YamlProblem(f"{where}invalid YAML: {problem}{_hint(problem, line)}") from None
    except RecursionError:
        raise YamlProblem("invalid YAML: nested too deeply") from None
    finally:
        loader.dispose()


def _hint(problem: str, line: str) -> str:
    """What usually causes this parser error in a config file, judged from the message and the line."""
    if "${" in line and ("{" in line.replace("${", "") or "[" in line):
        return ("; inside { } or [ ] a ${VAR} reference must be quoted, e.g. {token: \"${SLACK_BOT_TOKEN}\"}, "
                "or write the mapping one key a line")
    if "'\\t'" in problem or "\t" in line[:len(line) - len(line.lstrip())]:
        return "; YAML indents with spaces, never tabs"
    if "mapping values are not allowed" in problem:
        return "; a value holding ': ' (or a time like 08:30 after another key) needs quotes, e.g. time: \"08:30\""
    return ""


def _key_lines(node: yaml.Node, path: str, lines: dict[str, int], seen: set[int]) -> None:
    """Where each key path of the document starts; an alias is walked once (its size is already bounded)."""
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = f"{path}.{key.value}" if path else str(key.value)
            lines.setdefault(child, key.start_mark.line + 1)
            _key_lines(value, child, lines, seen)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = f"{path}[{index}]"
            lines.setdefault(child, item.start_mark.line + 1)
            _key_lines(item, child, lines, seen)


def _check_expansion(root: yaml.Node) -> None:
    """Counts the values the document holds with every alias expanded, without expanding anything: each
    node's expanded size is computed once and reused wherever an alias points to it."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            raise YamlProblem(f"line {node.start_mark.line + 1}: an alias refers to the value that contains it")
        open_nodes.add(key)
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [item for pair in node.value for item in pair]
        else:
            children = []
        total = 1
        for child in children:
            total += size(child)
            if total > MAX_EXPANDED_VALUES:
                raise YamlProblem(f"the YAML expands to more than {MAX_EXPANDED_VALUES:,} values through its "
                                  "aliases (&anchor / *alias); write the values out or nest fewer aliases")
        open_nodes.discard(key)
        sizes[key] = total
        return total

    size(root)
