"""The source stays readable: no function longer than a screen or taking more than a handful of values.

Checked with ``ast`` over ``src/vitalflow`` (and ``jobs/``): a function's length is from its ``def``
(decorators included) to its last line, docstring and comments included; its parameters are all of
them (positional, keyword-only, ``*args``, ``**kwargs``) but ``self`` and ``cls``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
MAX_LINES = 60
MAX_PARAMETERS = 8


def functions(root: Path) -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found.append((f"{path.relative_to(REPO)}:{node.lineno} {node.name}", node))
    return found


def length(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return (node.end_lineno or node.lineno) - first + 1


def parameters(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    a = node.args
    names = [p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs)]
    names += [p.arg for p in (a.vararg, a.kwarg) if p is not None]
    return len([n for n in names if n not in ("self", "cls")])


@pytest.mark.parametrize("root", ["src/vitalflow", "jobs"])
def test_no_function_is_too_long_or_takes_too_many_parameters(root: str) -> None:
    found = functions(REPO / root)
    assert found, f"no functions found under {root}"
    long = [f"{where} ({length(node)} lines)" for where, node in found if length(node) > MAX_LINES]
    wide = [
        f"{where} ({parameters(node)} parameters)"
        for where, node in found
        if parameters(node) > MAX_PARAMETERS
    ]
    assert not long, f"functions over {MAX_LINES} lines:\n" + "\n".join(long)
    assert not wide, f"functions over {MAX_PARAMETERS} parameters:\n" + "\n".join(wide)


def test_the_measures_count_what_they_say() -> None:
    """The check itself: a 61-line function and a 9-parameter one are found."""
    body = "\n".join(f"    x{i} = {i}" for i in range(59))
    (long,) = [
        n for n in ast.walk(ast.parse(f"def f():\n{body}\n    return 0\n")) if isinstance(n, ast.FunctionDef)
    ]
    assert length(long) == 61
    code = "class C:\n    def m(self, a, b, c, d, e, f, *g, h, **i): pass\n"
    (wide,) = [n for n in ast.walk(ast.parse(code)) if isinstance(n, ast.FunctionDef)]
    assert parameters(wide) == 9
