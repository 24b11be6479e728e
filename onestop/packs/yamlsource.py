"""Read YAML while remembering the line of every value, for ``file:line: path`` errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True, order=True)
class PackError:
    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.path or '(top)'}: {self.message}"


@dataclass
class SourceFile:
    name: str
    data: Any = None
    lines: dict[str, int] = field(default_factory=dict)
    missing: bool = False

    def line(self, path: str) -> int:
        while path:
            if path in self.lines:
                return self.lines[path]
            # climb to the parent path: a.b[2].c -> a.b[2] -> a.b -> a
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        return self.lines.get("", 1)


def _join(parent: str, key: Any) -> str:
    return f"{parent}.{key}" if parent else str(key)


def read_yaml(path: Path, errors: list[PackError]) -> SourceFile:
    source = SourceFile(name=path.name)
    if not path.exists():
        source.missing = True
        return source
    try:
        loader = yaml.SafeLoader(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        errors.append(PackError(path.name, 1, "", f"file is not UTF-8 text: {exc.reason}"))
        return source
    try:
        node = loader.get_single_node()
        if node is None:
            source.data = {}
            source.lines[""] = 1
            return source

        def walk(node: yaml.Node, where: str, line: int) -> Any:
            source.lines.setdefault(where, line)
            if isinstance(node, yaml.MappingNode):
                result: dict[Any, Any] = {}
                for key_node, value_node in node.value:
                    key = loader.construct_object(key_node, deep=True)
                    key_line = key_node.start_mark.line + 1
                    child = _join(where, key)
                    if key in result:
                        errors.append(PackError(path.name, key_line, child,
                                                f"duplicate key '{key}' (first at line {source.lines[child]})"))
                        continue
                    result[key] = walk(value_node, child, key_line)
                return result
            if isinstance(node, yaml.SequenceNode):
                return [walk(item, f"{where}[{i}]", item.start_mark.line + 1) for i, item in enumerate(node.value)]
            return loader.construct_object(node, deep=True)

        source.data = walk(node, "", node.start_mark.line + 1)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        errors.append(PackError(path.name, line, "", f"invalid YAML: {problem}"))
        source.data = None
    finally:
        loader.dispose()
    return source
