"""`make mutate`, step one: a copy of the project in build/mutate/ that mutmut can mutate entirely.

mutmut 3 leaves every decorated function unmutated (it cannot copy a decorated function beside its
mutants without running the decorator again), and most rules of the queue and funding live in `@unit_of_work`
writers and `@property` figures. In the copy, the packages named below apply their decorators by assignment
instead (`def f(...)` then `f = unit_of_work(f)`), which Python treats the same, so mutmut reaches them.
The project's own sources are never changed. docs/mutation-testing.md explains the rest.

    .venv/bin/python scripts/mutate_prepare.py      # then: cd build/mutate && mutmut run
"""
from __future__ import annotations

import sys
from pathlib import Path

import libcst as cst

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "build" / "mutate"
PACKAGES = ("botram/domain/queue", "botram/domain/funding")
COPIED = ("botram", "tests", "migrations", "pyproject.toml")
KEPT = {"staticmethod", "classmethod"}  # mutmut handles these itself


def _kept(function: cst.FunctionDef) -> bool:
    return len(function.decorators) == 1 and isinstance(function.decorators[0].decorator, cst.Name) \
        and function.decorators[0].decorator.value in KEPT


class DecoratorsByAssignment(cst.CSTTransformer):
    """`@a @b def f` becomes `def f` followed by `f = a(b(f))`, in modules and class bodies alike."""

    def _rewrite(self, body: list[cst.BaseStatement]) -> list[cst.BaseStatement]:
        out: list[cst.BaseStatement] = []
        for statement in body:
            if isinstance(statement, cst.FunctionDef) and statement.decorators and not _kept(statement):
                name = statement.name
                wrapped: cst.BaseExpression = cst.Name(name.value)
                for decorator in reversed(statement.decorators):
                    wrapped = cst.Call(func=decorator.decorator, args=[cst.Arg(wrapped)])
                out.append(statement.with_changes(decorators=[]))
                out.append(cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(cst.Name(name.value))], wrapped)]))
            else:
                out.append(statement)
        return out

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        return updated.with_changes(body=self._rewrite(list(updated.body)))

    def leave_IndentedBlock(self, original: cst.IndentedBlock, updated: cst.IndentedBlock) -> cst.IndentedBlock:
        return updated.with_changes(body=self._rewrite(list(updated.body)))


def rewrite(source: str) -> str:
    return cst.parse_module(source).visit(DecoratorsByAssignment()).code


def _write_if_changed(target: Path, data: bytes) -> None:
    # An unchanged file keeps its time: mutmut then keeps its mutants and their results (an incremental run).
    if target.exists() and target.read_bytes() == data:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def main() -> int:
    TARGET.mkdir(parents=True, exist_ok=True)
    rewritten = 0
    for name in COPIED:
        source = ROOT / name
        files = [source] if source.is_file() else \
            [p for p in source.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
        for path in files:
            relative = path.relative_to(ROOT)
            data = path.read_bytes()
            if path.suffix == ".py" and any(relative.as_posix().startswith(f"{p}/") for p in PACKAGES):
                new = rewrite(data.decode()).encode()
                rewritten += new != data
                data = new
            _write_if_changed(TARGET / relative, data)
    print(f"build/mutate ready: {rewritten} modules with decorators applied by assignment")
    return 0


if __name__ == "__main__":
    sys.exit(main())
