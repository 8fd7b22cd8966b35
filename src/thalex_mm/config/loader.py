"""Load BOT_CONFIG from a TOML file, then apply ``THALEX_MM__SECTION__KEY`` environment overrides.

Every problem becomes one ``(key_path, value, expected)`` triple in a ``ConfigError``, so a user
sees all mistakes at once, each naming the key, the bad value and what is allowed.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from thalex_mm.config.models import BotConfig, cross_field_problems
from thalex_mm.errors import ConfigError

__all__ = ["ENV_PREFIX", "config_to_toml", "load_config", "parse_config"]

ENV_PREFIX = "THALEX_MM__"
_MISSING = object()


def load_config(path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None) -> BotConfig:
    """Read ``path`` (optional) and the environment into a validated ``BotConfig``.

    Raises:
        ConfigError: with one problem per bad key; a TOML syntax error names file and line.
    """
    data: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError([(str(p), None, f"a readable TOML file ({exc.strerror})")]) from None
        except UnicodeDecodeError as exc:
            raise ConfigError([(str(p), f"byte {exc.object[exc.start:exc.start + 1]!r} at offset {exc.start}",
                                "a UTF-8 TOML file")]) from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError([(f"{p}", "TOML syntax", f"valid TOML: {exc}")]) from None
    env = os.environ if env is None else env
    data = _apply_env(data, env)
    return parse_config(data, env=env)


def parse_config(data: Mapping[str, Any], env: Mapping[str, str] | None = None) -> BotConfig:
    """Validate an already-parsed mapping into a ``BotConfig``.

    Args:
        data: section -> {key: value}.
        env: the environment, for the rules that depend on it (a non-loopback dashboard host
            needs ``$THALEX_MM_DASHBOARD_TOKEN``); None skips them.

    Raises:
        ConfigError: one problem per bad key.
    """
    try:
        config = BotConfig.model_validate(dict(data))
    except ValidationError as exc:
        problems = _problems(exc, data)
    else:
        env_problems = [] if env is None else cross_field_problems(config.model_dump(mode="python"), env)
        if env_problems:
            raise ConfigError(env_problems)
        return config
    # Field errors stop pydantic before the cross-field rules: run those on the raw values too,
    # so one pass reports every mistake.
    seen = {p[0] for p in problems}
    problems += [p for p in cross_field_problems(dict(data), env) if p[0] not in seen]
    raise ConfigError(problems)


def _apply_env(data: dict[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    merged = {k: dict(v) if isinstance(v, dict) else v for k, v in data.items()}
    for name, raw in sorted(env.items()):
        if not name.startswith(ENV_PREFIX):
            continue
        parts = name[len(ENV_PREFIX):].split("__")
        if len(parts) != 2 or not all(parts):
            raise ConfigError([(name, raw, f"{ENV_PREFIX}SECTION__KEY")])
        section, key = _field_name(parts)
        merged.setdefault(section, {})
        if not isinstance(merged[section], dict):
            raise ConfigError([(section, merged[section], "a table")])
        merged[section][key] = _parse_env_value(raw)
    return merged


def _field_name(parts: list[str]) -> tuple[str, str]:
    """``(section, key)`` as the config spells them, matched case-insensitively (environment
    names are upper case by convention; ``avellaneda.A`` has a capital). Unknown names come
    back lower-cased, and validation names them."""
    section = parts[0].lower()
    model = BotConfig.model_fields.get(section)
    fields = getattr(model.annotation, "model_fields", {}) if model is not None else {}
    by_lower = {f.lower(): f for f in fields}
    return section, by_lower.get(parts[1].lower(), parts[1].lower())


def _parse_env_value(raw: str) -> Any:
    """Environment values are TOML literals when they parse as one (numbers, booleans,
    arrays, quoted strings), otherwise plain strings."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _lookup(data: Mapping[str, Any], loc: tuple[Any, ...]) -> Any:
    cur: Any = data
    for part in loc:
        if (isinstance(cur, Mapping) and part in cur) or (isinstance(cur, list | tuple) and isinstance(part, int) and part < len(cur)):
            cur = cur[part]
        else:
            return _MISSING
    return cur


def _problems(exc: ValidationError, data: Mapping[str, Any]) -> list[tuple[str, object, str]]:
    problems: list[tuple[str, object, str]] = []
    errors = exc.errors(include_url=False)
    for err in errors:
        loc = tuple(err["loc"])
        if err["type"] == "too_short" and any(len(e["loc"]) > len(loc) and tuple(e["loc"][: len(loc)]) == loc for e in errors):
            continue  # pydantic adds "too short" after dropping an invalid item: the item error says it
        key = ".".join(str(p) for p in loc) or "(root)"
        kind = err["type"]
        value = err.get("input")
        if kind == "extra_forbidden":
            problems.append((key, value, "no such key (unknown keys are not allowed; check the spelling)"))
            continue
        if kind == "value_error":
            # Cross-field rules raise "key.path: got V, expected E" from a model validator.
            msg = str(err.get("ctx", {}).get("error", err["msg"]))
            if ": got " in msg and ", expected " in msg:
                path, rest = msg.split(": got ", 1)
                got, expected = rest.split(", expected ", 1)
                problems.append((path, _literal(got), expected))
                continue
            problems.append((key, _lookup(data, loc), msg))
            continue
        found = _lookup(data, loc)
        if found is not _MISSING:
            value = found
        problems.append((key, value, _expected(err)))
    return problems


def _literal(text: str) -> object:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _expected(err: Mapping[str, Any]) -> str:
    ctx = err.get("ctx") or {}
    kind = err["type"]
    bounds = {
        "greater_than": "a number > {gt}",
        "greater_than_equal": "a number >= {ge}",
        "less_than": "a number < {lt}",
        "less_than_equal": "a number <= {le}",
        "too_short": "at least {min_length} item(s)",
        "too_long": "at most {max_length} item(s)",
        "string_too_short": "a string of at least {min_length} character(s)",
        "string_pattern_mismatch": "a string matching {pattern}",
        "enum": "one of {expected}",
        "literal_error": "one of {expected}",
    }
    if kind in bounds:
        try:
            return bounds[kind].format(**ctx)
        except KeyError:
            pass
    return err["msg"][0].lower() + err["msg"][1:]


def config_to_toml(config: BotConfig) -> str:
    """Render the effective config as TOML, secrets redacted; each key is preceded by a
    comment giving its meaning, unit and allowed range (the field's documentation).

    BotConfig holds no credentials, but a value may embed one (the password of a
    ``postgresql://user:password@host/db`` journal URL): every string is passed through the
    journal's scrubber (``user:***@host``).
    """
    lines: list[str] = []
    dumped = config.model_dump(mode="json")
    for section, values in dumped.items():
        lines.append(f"[{section}]")
        fields = type(getattr(config, section)).model_fields
        for key, value in values.items():
            doc = fields[key].description if key in fields else None
            if doc:  # meaning, unit and allowed range of the key, as the model documents them
                lines.append(f"# {doc}")
            if value is None:
                lines.append(f"# {key} is unset")
                continue
            lines.append(f"{key} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    from thalex_mm.store.scrub import scrub_text

    text = scrub_text(str(value)).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'
