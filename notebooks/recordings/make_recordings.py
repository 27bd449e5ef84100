"""Write (or, with ``--check``, verify) every recording the teaching notebooks replay offline.

Run from anywhere: ``python notebooks/recordings/make_recordings.py [--check]``. Each notebook's
takes live in ``takes/nbNN.py``; ``takes/builder.py`` explains what the files are and are not.
With a key, a teacher replaces any of them with a live recording (``%%think --record FILE``): a
live file of the same request simply takes the place of the built one (then drop its take).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from takes.builder import Take, write  # noqa: E402

MODULES = ("nb02", "nb03", "nb04", "nb05", "nb06", "nb07", "nb08")


def all_takes() -> list[Take]:
    takes: list[Take] = []
    for name in MODULES:
        takes.extend(importlib.import_module(f"takes.{name}").TAKES)
    names = [take.name for take in takes]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise SystemExit(f"two takes share a name: {', '.join(duplicates)}")
    return takes


def _is_live(path: Path) -> bool:
    """Recorded with ``%%think --record``: a real answer that needs no take."""
    with path.open(encoding="utf-8") as file:
        header = json.loads(file.readline() or "{}")
    return str(header.get("source", "")).startswith("recorded with")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a file differs from what the takes build")
    args = parser.parse_args()
    takes = all_takes()
    if not args.check:
        for take in takes:
            print("wrote", write(take, HERE).relative_to(HERE.parent.parent))
        return 0
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        for take in takes:
            built = write(take, Path(scratch)).read_bytes()
            shipped = HERE / f"{take.name}.jsonl"
            if not shipped.exists():
                problems.append(f"{shipped.name} is missing")
            elif shipped.read_bytes() != built:
                problems.append(f"{shipped.name} differs from its take")
    expected = {f"{take.name}.jsonl" for take in takes}
    problems += [
        f"{p.name} has no take (and is not a live recording)"
        for p in sorted(HERE.glob("*.jsonl"))
        if p.name not in expected and not _is_live(p)
    ]
    for problem in problems:
        print(problem)
    if problems:
        print("run: python notebooks/recordings/make_recordings.py")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
