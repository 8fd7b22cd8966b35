"""``thalex-mm record --url`` against the simulated exchange: the output replays as book and
trade events with increasing timestamps."""

from __future__ import annotations

import asyncio
import sys

import numpy as np

from thalex_mm.data import EventKind, read_recording
from thalex_mm.sim.app import default_synthetic_params, running_simulated_exchange


def test_record_cli_against_the_simulator(tmp_path):
    out_dir = tmp_path / "rec"

    async def main() -> tuple[int, bytes]:
        busy = default_synthetic_params(arrival_rate_per_s=30.0, dt_s=0.05, mark_interval_s=0.2)
        async with running_simulated_exchange(synthetic=busy, seed=2, key_dir=tmp_path,
                                              publish_interval_s=0.05) as (sim, _keys):
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "thalex_mm", "record", "--url", sim.url,
                "--instrument", "BTC-PERPETUAL", "--out", str(out_dir), "--duration", "2",
                stderr=asyncio.subprocess.PIPE,
            )
            _, err = await asyncio.wait_for(proc.communicate(), 30)
            return proc.returncode, err

    rc, err = asyncio.run(main())
    assert rc == 0, err
    files = sorted(out_dir.iterdir())
    assert files and all(f.name.endswith(".jsonl.gz") for f in files)
    arr = read_recording(files)
    kinds = np.bincount(arr["kind"], minlength=8)
    assert kinds[EventKind.BOOK_CLEAR] >= 1
    assert kinds[EventKind.BOOK_LEVEL] >= 20
    assert kinds[EventKind.TRADE] >= 5
    assert kinds[EventKind.MARK] >= 3 and kinds[EventKind.INDEX] >= 3
    assert np.all(np.diff(arr["exch_ts"]) >= 0)
    assert np.all(np.diff(arr["local_ts"][arr["kind"] == EventKind.BOOK_LEVEL]) >= 0)
    book = arr[arr["kind"] == EventKind.BOOK_LEVEL]
    assert np.all((book["price"] > 60_000) & (book["price"] < 70_000))
