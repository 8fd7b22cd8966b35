"""End-to-end: ``live`` (against the simulated exchange over loopback) prints the same
end-of-run summary as ``paper``: PnL split, fees, funding, max |position|, requotes, rejects,
reconnects, open orders left."""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

from e2e_harness import fast_config, run

from thalex_mm.commands import live_cmd
from thalex_mm.config.secrets import Credentials, Secret
from thalex_mm.sim.app import running_simulated_exchange

LABELS = (
    "exit reason", "duration", "fills", "volume", "PnL realised", "PnL unrealised", "fees", "funding",
    "PnL total", "final position", "max |position|", "requotes", "rejects", "reconnects",
    "open orders left", "journal run",
)


def test_live_prints_the_paper_summary_at_exit(capsys) -> None:
    async def scenario() -> int:
        with tempfile.TemporaryDirectory(prefix="thalex-mm-live-") as tmp:
            cfg = fast_config(monitoring={"dashboard_enabled": False})
            async with running_simulated_exchange(seed=3, key_dir=tmp, publish_interval_s=0.02,
                                                  ping_interval_s=0.25) as (sim, keys):
                creds = Credentials(key_id=keys.kid, private_key=Secret(keys.private_key_pem()))
                args = argparse.Namespace(network="test", url=sim.url, db=str(Path(tmp) / "j.db"),
                                          duration=1.5, dashboard_port=None)
                return await live_cmd._run(cfg, sim.url, creds, args)

    assert run(scenario(), timeout_s=20.0) == 0
    out = capsys.readouterr().out.splitlines()
    fields = {line[:19].strip(): line[19:].strip() for line in out if line[:19].strip() in LABELS}
    assert tuple(fields) == LABELS, out
    assert fields["exit reason"] == "duration reached"
    assert fields["open orders left"] == "0"
    assert fields["reconnects"] == "0" and fields["rejects"].isdigit()
    steps, inserts = map(int, re.match(r"(\d+) quote steps; (\d+) inserts", fields["requotes"]).groups())
    assert steps >= 1 and inserts >= 2  # it quoted both sides
    for key in ("PnL realised", "PnL unrealised", "funding", "PnL total"):
        assert re.fullmatch(r"[+-]\d+\.\d\d USD", fields[key]), (key, fields[key])
    realised, unrealised, funding, total = (
        float(fields[k].split()[0]) for k in ("PnL realised", "PnL unrealised", "funding", "PnL total"))
    fees = float(fields["fees"].split()[0])
    # total = realised + unrealised - fees + funding (each printed rounded to the cent).
    assert abs(realised + unrealised - fees + funding - total) <= 0.021
