"""What building the core's frozen value objects costs per quote step, and what a compiled
``__init__`` would cost instead.

mypyc compiles a dataclass's fields but not the ``__init__`` that ``@dataclass`` writes at import
time: that one runs interpreted in both modes, and with ``frozen=True`` it sets each field
through ``object.__setattr__``. This script measures, in the mode it runs in (compiled unless
``THALEX_MM_PURE_PYTHON=1``):

1. how many frozen-dataclass objects one ``MarketMakerCore.handle(book delta)`` builds, by
   class (``benchmarks/core_step.py``'s market, 1 level; counted with ``sys.setprofile``);
2. the construction time of classes it builds on every step: frozen events and commands (the
   ``@dataclass`` ``__init__``) and the value objects given a written ``__init__``
   (docs/build.md, "Per-event value objects");
3. for comparison, the same 4-float shape compiled by mypyc in a temporary directory three
   ways: a frozen dataclass, a non-frozen dataclass with a written ``__init__``, and a plain
   class with ``__slots__`` (needs mypy, which the ``dev`` extra brings; skipped without it).

Usage: ``python benchmarks/value_objects.py [--n 200000] [--steps 2000]``.
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import os
import subprocess
import sys
import tempfile
import textwrap
import timeit
from pathlib import Path

import thalex_mm
from thalex_mm.core.commands import AmendOrder
from thalex_mm.core.events import BookDeltaReceived
from thalex_mm.core.fair_value import FairValue
from thalex_mm.core.step import Step
from thalex_mm.core.types import WantedQuotes

sys.path.insert(0, str(Path(__file__).resolve().parent))
import core_step  # the quote-step benchmark's market and core

SHAPES = textwrap.dedent('''
    from dataclasses import dataclass

    @dataclass(frozen=True, slots=True, kw_only=True)
    class Frozen:
        price: float
        raw: float
        shift: float
        basis: float

    @dataclass(slots=True, kw_only=True)
    class WrittenInit:
        price: float
        raw: float
        shift: float
        basis: float

        def __init__(self, *, price: float, raw: float, shift: float, basis: float) -> None:
            self.price = price
            self.raw = raw
            self.shift = shift
            self.basis = basis

    class Slots:
        __slots__ = ("price", "raw", "shift", "basis")

        def __init__(self, *, price: float, raw: float, shift: float, basis: float) -> None:
            self.price = price
            self.raw = raw
            self.shift = shift
            self.basis = basis

    def build_Frozen(n: int) -> None:
        for _ in range(n):
            Frozen(price=1.0, raw=2.0, shift=3.0, basis=4.0)

    def build_WrittenInit(n: int) -> None:
        for _ in range(n):
            WrittenInit(price=1.0, raw=2.0, shift=3.0, basis=4.0)

    def build_Slots(n: int) -> None:
        for _ in range(n):
            Slots(price=1.0, raw=2.0, shift=3.0, basis=4.0)
''')


def objects_per_step(steps: int) -> tuple[collections.Counter[str], int]:
    """Frozen-dataclass constructions during ``core_step.run``, by class, and the steps timed."""
    counts: collections.Counter[str] = collections.Counter()

    def profile(frame, event, arg):  # the dataclass-written __init__ is code from "<string>"
        if event == "call" and frame.f_code.co_name == "__init__" \
                and frame.f_code.co_filename == "<string>":
            counts[type(frame.f_locals.get("self")).__name__] += 1

    core_step.run(200, 1, 1)  # imports and first-use work outside the count
    sys.setprofile(profile)
    try:
        core_step.run(steps, 1, 7)
    finally:
        sys.setprofile(None)
    return counts, steps


def per_object_us(fn, n: int) -> float:
    return min(timeit.repeat(fn, number=n, repeat=3)) / n * 1e6


def package_classes(n: int) -> list[tuple[str, str, float]]:
    """(class, how its __init__ is made, µs per object through its constructor)."""
    cases = [
        ("FairValue", lambda: FairValue(1.0, 2.0, 3.0, 4.0)),
        ("Step", lambda: Step(commands=(), notices=(), quoted=True)),
        ("WantedQuotes", lambda: WantedQuotes(instrument="BTC-PERPETUAL", bids=(), asks=())),
        ("AmendOrder", lambda: AmendOrder(client_order_id=1, price=1.0, amount=2.0)),
        ("BookDeltaReceived", lambda: BookDeltaReceived(local_ts_ns=1, instrument="BTC-PERPETUAL",
                                                        bids=(), asks=())),
    ]
    out = []
    for name, ctor in cases:
        init = getattr(type(ctor()), "__init__", None)
        code = getattr(init, "__code__", None)
        kind = ("frozen, @dataclass __init__" if code is not None and code.co_filename == "<string>"
                else "written __init__")
        out.append((name, kind, per_object_us(ctor, n)))
    return out


def compiled_shapes(n: int) -> list[tuple[str, float]] | str:
    """Per-object µs of the three shapes compiled by mypyc; a reason string when it cannot."""
    if importlib.util.find_spec("mypyc") is None:
        return "mypy/mypyc not installed (pip install -e '.[dev]')"
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "vo_shapes.py").write_text(SHAPES)
        done = subprocess.run([sys.executable, "-m", "mypyc", "vo_shapes.py"], cwd=tmp,
                              capture_output=True, text=True, env={**os.environ, "MYPYC_OPT_LEVEL": "3"})
        if done.returncode != 0:
            return f"mypyc failed: {done.stdout[-300:]}{done.stderr[-300:]}"
        code = ("import sys, timeit; sys.path.insert(0, '.'); import vo_shapes as m\n"
                "assert m.__file__.endswith('.so'), m.__file__\n"
                "for name in ('Frozen', 'WrittenInit', 'Slots'):\n"
                "    build = getattr(m, 'build_' + name)  # each calls its class directly\n"
                f"    t = min(timeit.repeat(lambda: build({n}), number=1, repeat=3))\n"
                f"    print(name, t / {n} * 1e6)\n")
        ran = subprocess.run([sys.executable, "-c", code], cwd=tmp, capture_output=True, text=True,
                             env={k: v for k, v in os.environ.items() if k != "THALEX_MM_PURE_PYTHON"})
        if ran.returncode != 0:
            return f"compiled shapes did not run: {ran.stderr[-300:]}"
        return [(line.split()[0], float(line.split()[1])) for line in ran.stdout.splitlines()]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=200_000, help="objects per timing")
    ap.add_argument("--steps", type=int, default=2_000, help="quote steps counted")
    args = ap.parse_args()
    print(f"mode: {thalex_mm.build_mode()}; Python {sys.version.split()[0]}")

    counts, steps = objects_per_step(args.steps)
    total = sum(counts.values())
    print(f"frozen dataclass objects built per book-delta step (core_step.py market, 1 level, "
          f"venue acknowledgements included): {total / steps:.1f}")
    for name, c in counts.most_common(8):
        print(f"  {name:<22} {c / steps:5.2f}")

    print("construction through the constructor, µs per object (best of 3):")
    frozen_us = []
    for name, kind, us in package_classes(args.n):
        print(f"  {name:<22} {us:.3f}  ({kind})")
        if kind.startswith("frozen"):
            frozen_us.append(us)
    if frozen_us:
        mean = sum(frozen_us) / len(frozen_us)
        print(f"  ≈ {total / steps * mean:.1f} µs per step in frozen-dataclass construction "
              "(objects per step × the frozen mean)")

    shapes = compiled_shapes(args.n)
    if isinstance(shapes, str):
        print(f"same 4-float shape compiled by mypyc: skipped: {shapes}")
    else:
        print("same 4-float shape compiled by mypyc, µs per object:")
        for name, us in shapes:
            print(f"  {name:<22} {us:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
