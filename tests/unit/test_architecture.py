"""The layout holds: small modules and classes, no import circle, every package in the wheel,
and the config hash unchanged by moving code around."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest
import yaml
from setuptools import find_namespace_packages

from scrubber.config import load_config, parse_config

ROOT = Path(__file__).resolve().parents[2]
ROOTS = ("scrubber", "connectors", "recognizers")
MAX_MODULE_LINES = 450
MAX_CLASS_LINES = 300


def _sources(*roots: str) -> list[Path]:
    return sorted(p for root in roots for p in (ROOT / root).rglob("*.py"))


@pytest.mark.parametrize("path", _sources("scrubber", "connectors"), ids=lambda p: p.name)
def test_no_module_or_class_is_too_long(path: Path) -> None:
    text = path.read_text("utf-8")
    assert len(text.splitlines()) <= MAX_MODULE_LINES, f"{path}: split it"
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ClassDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            assert length <= MAX_CLASS_LINES, f"{path}: class {node.name} is {length} lines"


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph.modules):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in graph.modules:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append(
                        (child, iter(sorted(graph.find_modules_directly_imported_by(child))))
                    )
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_no_import_circle_anywhere_lazy_imports_included() -> None:
    graph = grimp.build_graph(*ROOTS, cache_dir=None)
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_circle() -> None:
    graph = grimp.ImportGraph()
    for name in ("a", "a.x", "a.y", "a.z"):
        graph.add_module(name)
    graph.add_import(importer="a.x", imported="a.y")
    graph.add_import(importer="a.y", imported="a.x")
    graph.add_import(importer="a.y", imported="a.z")
    assert _cycles(graph) == [["a.x", "a.y"]]


def test_every_package_directory_goes_into_the_wheel() -> None:
    """setuptools discovery (pyproject `packages.find`) lists every folder with an __init__.py."""
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for root in ROOTS
        for init in (ROOT / root).rglob("__init__.py")
    }
    found = set(find_namespace_packages(str(ROOT), include=[f"{r}*" for r in ROOTS]))
    assert on_disk <= found
    assert {"scrubber.engine", "scrubber.pipeline", "scrubber.vault", "scrubber.api",
            "scrubber.config", "connectors.kafka"} <= on_disk  # fmt: skip


def test_moving_code_leaves_the_config_hash_as_it_was() -> None:
    """Output headers and metrics carry the hash: a refactor must not change it."""
    values = yaml.safe_load((ROOT / "helm/values.yaml").read_text("utf-8"))
    assert parse_config(values["config"]).digest() == "081bae65ac861310"
    assert load_config(None).digest() == "53491c2bb5ad8482"


def test_a_later_setting_enters_the_hash_only_when_it_is_set() -> None:
    base = parse_config({})
    assert parse_config({"api": {"docs": False}}).digest() == base.digest()
    assert parse_config({"api": {"docs": True}}).digest() != base.digest()
