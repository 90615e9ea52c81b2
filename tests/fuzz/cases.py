"""Numbered fuzz cases: ``make_case(n)`` rebuilds case ``n`` exactly, anywhere.

A case is one damaged, truncated, foreign or special file derived from a seed trace by a
schedule drawn from ``random.Random(f"{base}:{n}")``, so a failing case found by the fuzzer is
reproduced from its number alone (``python benchmarks/fuzz_traces.py --replay N``).
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass
from pathlib import Path

from tests.fuzz import mutate
from tests.fuzz.seeds import companions

FAMILIES = {"sql": 45, "bytes": 28, "sql+bytes": 10, "wal": 9, "foreign": 5, "special": 3}


@dataclass(frozen=True)
class Case:
    """One generated input."""

    number: int
    family: str
    path: Path
    label: str


def make_case(number: int, seeds: dict[str, Path], folder: Path, base: int = 0) -> Case:
    """Build case ``number`` under ``folder`` (which must be empty) from the seed traces."""
    rng = random.Random(f"{base}:{number}")
    family = rng.choices(list(FAMILIES), list(FAMILIES.values()))[0]
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"case-{number}.opscope"
    if family == "special":
        kind = rng.choice(mutate.SPECIAL_PATHS)
        path = mutate.make_special(kind, folder, seeds[rng.choice(["plain", "rich"])])
        return Case(number, family, path, f"special: {kind}")
    if family == "foreign":
        kind = rng.choice(list(mutate.FOREIGN_FILES))
        label = mutate.make_foreign(kind, target, seeds[rng.choice(["plain", "values", "rich"])])
        return Case(number, family, target, label)
    if family == "wal":
        return Case(number, family, target, _wal_case(rng, seeds["wal"], target))
    seed_name = rng.choice(["plain", "values", "rich", "rich"])
    _copy_with_companions(seeds[seed_name], target)
    steps = [f"seed {seed_name}"]
    if family in ("sql", "sql+bytes"):
        keep_wal = rng.random() < 0.15
        steps += mutate.sql_mutate(target, rng, rng.choice([1, 1, 2, 3]), keep_wal=keep_wal)
        if keep_wal:
            steps.append("left in WAL")
    if family in ("bytes", "sql+bytes"):
        steps += mutate.byte_mutate_file(target, rng, rng.choice([1, 1, 2, 4]))
    return Case(number, family, target, "; ".join(steps))


def _copy_with_companions(seed: Path, target: Path) -> None:
    shutil.copyfile(seed, target)
    for companion in companions(seed):
        shutil.copyfile(companion, f"{target}{companion.name[len(seed.name) :]}")


def _wal_case(rng: random.Random, seed: Path, target: Path) -> str:
    """The cut-off recording, with its WAL or shared-memory file damaged, missing or swapped."""
    _copy_with_companions(seed, target)
    wal, shm = Path(f"{target}-wal"), Path(f"{target}-shm")
    choice = rng.randrange(6)
    if choice == 0:
        shm.unlink(missing_ok=True)
        return "wal seed without -shm"
    if choice == 1:
        steps = mutate.byte_mutate_file(wal, rng, rng.choice([1, 2, 4]))
        return "wal seed, -wal: " + "; ".join(steps)
    if choice == 2:
        steps = mutate.byte_mutate_file(shm, rng, rng.choice([1, 2, 4]))
        return "wal seed, -shm: " + "; ".join(steps)
    if choice == 3:
        data = wal.read_bytes()
        wal.write_bytes(data[: rng.randrange(len(data) + 1)])
        return "wal seed, -wal truncated"
    if choice == 4:
        steps = mutate.byte_mutate_file(target, rng, rng.choice([1, 2]))
        return "wal seed, main file: " + "; ".join(steps)
    wal.write_bytes(rng.randbytes(rng.choice([32, 4096 + 24, 70_000])))
    return "wal seed, -wal replaced by random bytes"
