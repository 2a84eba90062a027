"""`make mutate`, last step: the mutation score per package and per module, from mutmut's result files.

    .venv/bin/python scripts/mutate_score.py build/mutate

Killed = killed + timeout (a mutant that makes the tests hang changed behaviour). Survivors are listed by
name; `cd build/mutate && ../../.venv/bin/mutmut show NAME` shows the change. Equivalent survivors are
explained in docs/mutation-testing.md.
"""
from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

KILLED = {1, 3, 36, 24, -24, 152, 255}  # mutmut's "killed" and "timeout" exit codes


def main() -> int:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "build/mutate") / "mutants"
    by_package: dict[str, Counter] = defaultdict(Counter)
    by_module: dict[str, Counter] = defaultdict(Counter)
    survivors: list[str] = []
    for meta in sorted(root.glob("botram/domain/*/*.py.meta")):
        package = meta.parent.name
        codes = json.loads(meta.read_text()).get("exit_code_by_key", {})
        for name, code in codes.items():
            verdict = ("killed" if code in KILLED else "survived" if code == 0
                       else "not run" if code is None else "no tests" if code in (5, 33) else "other")
            by_package[package][verdict] += 1
            by_module[f"{package}/{meta.name.removesuffix('.meta')}"][verdict] += 1
            if verdict in ("survived", "no tests"):
                survivors.append(f"{verdict}: {name}")

    def line(label: str, counts: Counter) -> str:
        run = counts["killed"] + counts["survived"] + counts["no tests"]
        score = f"{100 * counts['killed'] / run:.1f} %" if run else "-"
        rest = ", ".join(f"{counts[k]} {k}" for k in ("survived", "no tests", "not run", "other") if counts[k])
        return f"{label:28} killed {counts['killed']:4}/{run:<4} {score:>7}  ({rest or 'none left'})"

    for package, counts in sorted(by_package.items()):
        print(line(f"botram/domain/{package}/", counts))
    print()
    for module, counts in sorted(by_module.items()):
        if sum(counts.values()):
            print(line(f"  {module}", counts))
    if survivors:
        print(f"\n{len(survivors)} survivors (mutmut show NAME):")
        print("\n".join(f"  {s}" for s in survivors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
