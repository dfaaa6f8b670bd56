"""The package's layers: imports point one way, from the adapters down to the engine.

engine (request time) < document (load time) < tools (operator time) < RuleSet < adapters <
command line. A module may import its own layer and the layers below it, never one above,
and no two modules import each other, directly or round a longer cycle. Imports under
``if TYPE_CHECKING:`` and inside functions count too: a cycle hidden there is still a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import redirectware

PACKAGE = Path(redirectware.__file__).parent
LAYERS = {
    "redirectware.errors": 0,
    "redirectware._extras": 0,
    "redirectware.lazybuild": 5,
    "redirectware.engine": 1,
    "redirectware.document": 2,
    # The rule kinds: each kind's parser, reference and surfaces; load time, as document/ is.
    "redirectware.kinds": 2,
    "redirectware.tools": 3,
    "redirectware.ruleset": 4,
    "redirectware.adapter": 5,
    "redirectware.draining": 5,
    "redirectware.reloading": 5,
    "redirectware.failurelog": 5,
    "redirectware.metrics": 5,
    "redirectware.counting": 5,
    "redirectware.otel": 5,
    "redirectware.settings_values": 5,
    "redirectware.asgi": 5,
    "redirectware.wsgi": 5,
    "redirectware.flask": 5,
    "redirectware.django": 5,
    # manage.py commands are command line, as cli/ is.
    "redirectware.django.management": 6,
    "redirectware.testing": 6,
    "redirectware.cli": 6,
    "redirectware.__main__": 6,
    "redirectware": 6,
}


def _module_name(path: Path) -> str:
    parts = ["redirectware", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> int:
    for prefix in sorted(LAYERS, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return LAYERS[prefix]
    raise AssertionError(f"{module} belongs to no layer: add it to LAYERS")


def _exists(module: str) -> bool:
    where = PACKAGE.parent / module.replace(".", "/")
    return where.is_dir() or where.with_suffix(".py").is_file()


def _imports(path: Path) -> set[str]:
    """Every redirectware module that ``path`` imports, anywhere in it."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            # "from redirectware import asgi" imports a module, not the package.
            submodules = {f"{name}.{alias.name}" for alias in node.names}
            submodules = {sub for sub in submodules if _exists(sub)}
            found.update(submodules or {name})
    return {name for name in found if name.split(".")[0] == "redirectware" and name != module}


GRAPH = {_module_name(path): _imports(path) for path in sorted(PACKAGE.rglob("*.py"))}


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_point_down(module: str) -> None:
    mine = _layer(module)
    upward = sorted(name for name in GRAPH[module] if _layer(name) > mine)
    assert not upward, f"{module} (layer {mine}) imports from above: {upward}"


def test_the_engine_imports_nothing_above_it() -> None:
    engine = {name: deps for name, deps in GRAPH.items() if name.startswith("redirectware.engine")}
    assert len(engine) >= 10  # the test sees the engine's modules, not an empty set
    for name, deps in engine.items():
        assert all(_layer(dep) <= 1 for dep in deps), (name, deps)


def test_no_import_cycle() -> None:
    # Packages' __init__ modules re-export their children; a child importing a sibling
    # through its package is not a cycle of modules, so edges to packages are left out.
    packages = {_module_name(p) for p in PACKAGE.rglob("__init__.py")}
    edges = {
        name: {d for d in deps if d in GRAPH and d not in packages} for name, deps in GRAPH.items()
    }
    state: dict[str, int] = {}
    trail: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        trail.append(name)
        for dep in sorted(edges[name]):
            if state.get(dep) == 1:
                cycle = [*trail[trail.index(dep) :], dep]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if dep not in state:
                visit(dep)
        trail.pop()
        state[name] = 2

    for name in sorted(edges):
        if name not in state:
            visit(name)
