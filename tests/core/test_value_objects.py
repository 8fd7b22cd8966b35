"""The core's per-event value objects with a written ``__init__`` (docs/build.md, "Per-event
value objects") behave like the dataclasses they replace: the written ``__init__`` takes exactly
the declared fields, with the same defaults and the same keyword-only-ness, and sets each one;
equality, hashing, ``repr`` and ``dataclasses.replace`` work as before."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import math
import pkgutil

import pytest

import thalex_mm
import thalex_mm.core
from thalex_mm.core.adverse_selection import NO_ADJUSTMENT, QuoteAdjustment
from thalex_mm.core.fair_value import FairValue
from thalex_mm.core.step import EMPTY_STEP, Step
from thalex_mm.core.types import QuoteLevel, Side, WantedQuotes
from thalex_mm.core.volatility import VolatilityEstimate


def _written_init_dataclasses() -> list[type]:
    found = []
    for info in pkgutil.iter_modules(thalex_mm.core.__path__, "thalex_mm.core."):
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if (inspect.isclass(obj) and obj.__module__ == module.__name__
                    and dataclasses.is_dataclass(obj)):
                init = obj.__dict__.get("__init__")
                code = getattr(init, "__code__", None)
                if code is None or code.co_filename != "<string>":  # not written by @dataclass
                    found.append(obj)
    return found


WRITTEN = _written_init_dataclasses()


def test_written_init_dataclasses_are_the_hot_value_objects():
    assert {c.__name__ for c in WRITTEN} >= {"FairValue", "MarketSnapshot", "QuoteAdjustment", "Step",
                                               "VolatilityEstimate", "WantedQuotes"}


def _sample(field: dataclasses.Field, i: int) -> object:
    kind = field.type if isinstance(field.type, str) else getattr(field.type, "__name__", "")
    kind = kind.split("|")[0].strip()  # "float | None" -> a float
    kind = "float" if kind == "type" else kind  # compiled, a union field's type reads as `type`
    return {"float": 1.5 + i, "int": 3 + i, "bool": True, "str": f"s{i}"}.get(kind, (f"v{i}",))


@pytest.mark.parametrize("cls", WRITTEN, ids=lambda c: c.__name__)
def test_written_init_when_compared_with_fields_takes_each_with_its_default_and_kind(cls):
    fields = [f for f in dataclasses.fields(cls) if f.init]
    try:
        params = list(inspect.signature(cls).parameters.values())
    except ValueError:  # mypyc writes a NaN default as "nan", which inspect cannot parse
        assert thalex_mm.build_mode() == "compiled"
        pytest.skip(f"{cls.__name__}: compiled text signature unreadable; checked in pure mode")

    assert [p.name for p in params] == [f.name for f in fields]
    for p, f in zip(params, fields, strict=True):
        want_default = inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default
        assert p.default == want_default or (isinstance(want_default, float)
                                             and math.isnan(want_default)
                                             and math.isnan(p.default)), f.name
        want_kind = (inspect.Parameter.KEYWORD_ONLY if f.kw_only
                     else inspect.Parameter.POSITIONAL_OR_KEYWORD)
        assert p.kind is want_kind, f.name


@pytest.mark.parametrize("cls", WRITTEN, ids=lambda c: c.__name__)
def test_written_init_when_given_every_field_sets_each(cls):
    values = {f.name: _sample(f, i) for i, f in enumerate(dataclasses.fields(cls))}

    obj = cls(**values)

    assert {name: getattr(obj, name) for name in values} == values
    assert obj == cls(**values)
    assert hash(obj) == hash(cls(**values))
    assert obj in {cls(**values)}


def test_value_objects_compare_by_value_and_replace_keeps_the_rest():
    fv = FairValue(100.5, 100.0, 0.5, math.nan)
    wq = WantedQuotes(instrument="BTC-PERPETUAL", bids=(QuoteLevel(side=Side.BUY, level=0, price=99.0, amount=0.1),))

    assert fv.price == 100.5 and fv.funding_shift == 0.5 and math.isnan(fv.basis)
    assert dataclasses.replace(wq, asks=(QuoteLevel(side=Side.SELL, level=0, price=101.0, amount=0.2),)).bids == wq.bids
    assert wq != WantedQuotes(instrument="BTC-PERPETUAL")
    # not QuoteAdjustment() == NO_ADJUSTMENT: their markout is NaN, and compiled code reads a
    # float field into a new object each time, so NaN fields never compare equal there
    assert QuoteAdjustment(markout=0.0) == QuoteAdjustment(0.0, 0.0, 0.0, 0.0, 0.0)
    assert NO_ADJUSTMENT.center_shift == 0.0 and math.isnan(NO_ADJUSTMENT.markout)
    assert Step() == EMPTY_STEP and not EMPTY_STEP.commands and not EMPTY_STEP.quoted
    assert "sigma_price_per_sqrt_s=2.0" in repr(VolatilityEstimate(
        sigma_logret_per_sqrt_s=1e-4, sigma_price_per_sqrt_s=2.0, sigma_annualised=0.5,
        samples=10, warm=True, price=20_000.0))
