"""A ``kill -9`` of the writing process loses at most the last second of records.

A child process records quotes and fills as fast as a 1 ms loop allows and, after queueing
each one, appends ``seq ts_ns`` to a side file. The parent kills it with SIGKILL, reopens the
database (WAL recovery) and checks that every record queued more than 1 s before the kill is
there, and that the file is intact.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from thalex_mm.store import JournalReader

_CHILD = """
import sys, time
from thalex_mm.store import Journal

journal = Journal(sys.argv[1], flush_interval_s=0.2)
run_id = journal.start_run("paper", {"test": "crash"})
with open(sys.argv[2], "w", buffering=1) as side:
    side.write(f"run {run_id}\\n")
    seq = 0
    while True:
        ts_ns = time.time_ns()
        journal.quote(run_id, ts_ns=ts_ns, mid=float(seq))
        if seq % 2 == 0:
            journal.fill(run_id, ts_ns=ts_ns, trade_id=f"T{seq}", side="buy", price=1.0,
                         amount=1.0)
        side.write(f"{seq} {ts_ns}\\n")
        seq += 1
        time.sleep(0.001)
"""

_LOSS_WINDOW_NS = 1_000_000_000


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_journal_when_writer_process_killed_keeps_all_records_older_than_one_second(tmp_path):
    db, side, script = tmp_path / "crash.sqlite", tmp_path / "side.txt", tmp_path / "child.py"
    script.write_text(_CHILD)
    proc = subprocess.Popen([sys.executable, str(script), str(db), str(side)])
    try:
        deadline = time.monotonic() + 30
        while not (side.exists() and side.read_text().count("\n") >= 2):
            assert proc.poll() is None, f"child exited early with {proc.returncode}"
            assert time.monotonic() < deadline, "child never started recording"
            time.sleep(0.05)
        time.sleep(1.8)
        kill_ns = time.time_ns()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL

    lines = side.read_text().splitlines()
    run_id = lines[0].split()[1]
    queued: list[tuple[int, int]] = []
    for line in lines[1:]:
        parts = line.split()
        if len(parts) == 2:  # the last line may be cut by the kill
            queued.append((int(parts[0]), int(parts[1])))
    cutoff_ns = kill_ns - _LOSS_WINDOW_NS
    must_have = {seq for seq, ts_ns in queued if ts_ns < cutoff_ns}
    assert len(must_have) >= 100, f"child recorded too little to judge ({len(must_have)})"

    with JournalReader(db) as reader:
        stored = {int(q.mid) for q in reader.quotes(run_id)}
        fills = {f.trade_id for f in reader.fills(run_id)}
        info = reader.get_run(run_id)
    missing = sorted(must_have - stored)
    assert not missing, f"{len(missing)} quotes older than 1 s lost, first {missing[:5]}"
    assert {f"T{s}" for s in must_have if s % 2 == 0} <= fills
    assert stored <= set(range(len(queued) + 2))  # nothing invented (+ the cut last line)
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        conn.close()
    assert (info.stopped_ns, info.exit_reason) == (None, None)
