"""Where a compiled run spends its time: ``perf`` samples attributed to compiled functions.

cProfile cannot see inside mypyc-compiled functions, and a flat ``perf report`` of a compiled
run is mostly CPython runtime symbols (dict lookups, allocation, float boxing) with no hint of
which of our functions caused them. This script records a command with ``perf record
--call-graph dwarf`` and charges each sample to the **innermost compiled function** on its stack
(``CPyDef_<module>___<Class>___<method>``), listing the runtime symbols it spent them in. Only
samples under ``--within`` (a substring of a compiled function's symbol) count.

Prints: the share of samples per shared object (CPython runtime vs our compiled code vs numpy),
then the top compiled functions with their leading leaf symbols.

Usage (Linux with ``perf``; the compiled build installed)::

    python benchmarks/compiled_profile.py [--within MarketMakerCore___handle] [--top 25] \\
        -- benchmarks/core_step.py --n 20000 --levels 1
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

_FRAME = re.compile(r"^\s*[0-9a-f]+\s+(?P<sym>.+?)(?:\+0x[0-9a-f]+)?\s+\((?P<dso>[^)]*)\)\s*$")


def _samples(script: str):
    """Each sample as a list of (symbol, dso), leaf first."""
    for block in script.split("\n\n"):
        frames = []
        for line in block.splitlines()[1:]:
            m = _FRAME.match(line)
            if m:
                frames.append((m["sym"].strip(), Path(m["dso"]).name))
        # an inlined frame shows "(inlined)": it belongs to the next real frame's object
        for i in range(len(frames) - 2, -1, -1):
            if frames[i][1] == "inlined":
                frames[i] = (frames[i][0], frames[i + 1][1])
        if frames:
            yield frames


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--within", default="MarketMakerCore___handle",
                    help="count only samples with a frame whose symbol contains this")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--freq", type=int, default=1000, help="samples per second")
    ap.add_argument("command", nargs=argparse.REMAINDER, help="-- script.py [args]")
    args = ap.parse_args()
    command = [a for a in args.command if a != "--"] or ["benchmarks/core_step.py", "--n", "20000",
                                                        "--levels", "1"]
    if shutil.which("perf") is None:
        print("perf is not installed (Debian: apt install linux-perf); nothing measured")
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        data = str(Path(tmp) / "perf.data")
        rec = subprocess.run(["perf", "record", "-q", "-F", str(args.freq), "--call-graph",
                              "dwarf,32768", "-o", data, sys.executable, *command],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if rec.returncode != 0:
            print(f"perf record failed ({rec.returncode}): {rec.stderr[-500:]}")
            return 2
        script = subprocess.run(["perf", "script", "-i", data], capture_output=True,
                                text=True).stdout

    by_dso: collections.Counter[str] = collections.Counter()
    owner: collections.Counter[str] = collections.Counter()
    leaves: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    total = 0
    for frames in _samples(script):
        if not any(args.within in sym for sym, _ in frames):
            continue
        total += 1
        by_dso[frames[0][1]] += 1
        first = next((sym for sym, _ in frames if sym.startswith(("CPyDef_", "CPyPy_"))), "?")
        owner[first] += 1
        leaves[first][frames[0][0]] += 1
    if total == 0:
        print(f"no sample under {args.within!r}: is the compiled build installed "
              "(thalex-mm --version) and the name right?")
        return 1
    print(f"{total} samples under {args.within!r} ({' '.join(command)})")
    print("by shared object (leaf frame):")
    for dso, n in by_dso.most_common(6):
        print(f"  {100 * n / total:5.1f} %  {dso}")
    print("by innermost compiled function (its own code + the runtime calls it makes):")
    for fn, n in owner.most_common(args.top):
        top = ", ".join(f"{s} {c}" for s, c in leaves[fn].most_common(4))
        print(f"  {100 * n / total:5.1f} %  {fn}  [{top}]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
