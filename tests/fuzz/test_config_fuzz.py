"""load_config on arbitrary TOML text and arbitrary values: only ``ConfigError`` escapes, and
every one of its lines names a key (``key: got VALUE, expected WHAT``)."""

from __future__ import annotations

import tomllib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from thalex_mm.config import load_config
from thalex_mm.config.models import BotConfig
from thalex_mm.errors import ConfigError

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                         HealthCheck.function_scoped_fixture])

SECTIONS = {name: sorted(f.annotation.model_fields) for name, f in BotConfig.model_fields.items()}
SECTION_NAMES = sorted(SECTIONS)
ALL_KEYS = [(s, k) for s in SECTION_NAMES for k in SECTIONS[s]]

texts = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=20)
toml_scalars = (st.booleans() | st.integers(min_value=-(2**63), max_value=2**63 - 1)
                | st.floats(allow_nan=True, allow_infinity=True) | texts
                | st.sampled_from(["BTC-PERPETUAL", "test", "prod", "INFO", "DEBUG", "", "0", "-1"]))
toml_values = st.recursive(
    toml_scalars,
    lambda c: st.lists(c, max_size=4) | st.dictionaries(texts.filter(bool), c, max_size=3),
    max_leaves=8,
)


def _toml_literal(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v != v:
            return "nan"
        if v in (float("inf"), float("-inf")):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return _toml_string(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_literal(x) for x in v) + "]"
    assert isinstance(v, dict)
    return "{" + ", ".join(f"{_toml_string(k)} = {_toml_literal(x)}" for k, x in v.items()) + "}"


def _toml_string(text: str) -> str:
    """A TOML basic string: quote, backslash, control and non-ASCII characters escaped."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= ord(ch) < 0x7F:
            out.append(ch)
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(f"\\U{ord(ch):08X}")
    return '"' + "".join(out) + '"'


def _assert_only_config_error(path, env=None) -> None:
    try:
        cfg = load_config(path, env=env or {})
    except ConfigError as exc:
        assert exc.problems, "a ConfigError with no problem"
        for (key, _value, expected), line in zip(exc.problems, exc.lines(), strict=True):
            assert isinstance(key, str) and key.strip(), f"no key named: {line!r}"
            assert isinstance(expected, str) and expected.strip(), f"no expectation: {line!r}"
            assert line.startswith(f"{key}: got ") and ", expected " in line, line
    else:
        assert isinstance(cfg, BotConfig)


@FUZZ
@given(st.text(max_size=400))
def test_load_config_when_text_is_arbitrary_raises_only_config_error(tmp_path, text):
    path = tmp_path / "bot.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    _assert_only_config_error(path)


@FUZZ
@given(st.binary(max_size=200))
def test_load_config_when_bytes_are_not_utf8_raises_only_config_error(tmp_path, data):
    path = tmp_path / "bot.toml"
    path.write_bytes(data)
    _assert_only_config_error(path)


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(ALL_KEYS), toml_values), min_size=1, max_size=6))
def test_load_config_when_known_keys_get_arbitrary_values_raises_only_config_error(tmp_path, items):
    tables: dict[str, dict[str, object]] = {}
    for (section, key), value in items:
        tables.setdefault(section, {})[key] = value
    text = "\n".join(f"[{s}]\n" + "\n".join(f"{k} = {_toml_literal(v)}" for k, v in kv.items())
                     for s, kv in tables.items())
    tomllib.loads(text)  # the generator writes valid TOML: the loader's checks are what we test
    path = tmp_path / "bot.toml"
    path.write_text(text, encoding="utf-8")
    _assert_only_config_error(path)


@FUZZ
@given(st.dictionaries(texts.filter(bool), toml_values, max_size=4),
       st.sampled_from([*SECTION_NAMES, "bogus", "market.x"]))
def test_load_config_when_tables_are_arbitrary_raises_only_config_error(tmp_path, table, section):
    text = f"[{_toml_string(section)}]\n" + "\n".join(f"{_toml_string(k)} = {_toml_literal(v)}"
                                                       for k, v in table.items())
    tomllib.loads(text)
    path = tmp_path / "bot.toml"
    path.write_text(text, encoding="utf-8")
    _assert_only_config_error(path)


@FUZZ
@given(st.lists(st.tuples(st.sampled_from([*ALL_KEYS, ("bogus", "x"), ("market", "nope")]),
                          st.text(max_size=30)), max_size=5),
       st.dictionaries(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ_", min_size=1, max_size=12),
                       st.text(max_size=20), max_size=3))
def test_load_config_when_env_overrides_are_arbitrary_raises_only_config_error(items, odd):
    env = {f"THALEX_MM__{s.upper()}__{k.upper()}": v.replace("\x00", "") for (s, k), v in items}
    env.update({f"THALEX_MM__{name}": v for name, v in odd.items()})
    _assert_only_config_error(None, env)


def test_load_config_when_value_is_wrong_names_key_value_and_expectation(tmp_path):
    path = tmp_path / "bot.toml"
    path.write_text('[risk]\nposition_hard_limit = -3\n[order]\nlevels = "x"\n')
    try:
        load_config(path, env={})
    except ConfigError as exc:
        text = "\n".join(exc.lines())
    else:
        raise AssertionError("an invalid config was accepted")
    assert "risk.position_hard_limit: got -3" in text
    assert "order.levels: got 'x'" in text
