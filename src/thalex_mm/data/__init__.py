"""Recorded market data: one event dtype, pure converters, validators, cache and mapping.

See ``thalex_mm.data.events`` for the array format (``MARKET_EVENT_DTYPE``) and its units.
"""

from thalex_mm.data.binance import (
    BinanceStats,
    convert_binance,
    median_clock_offset_ns,
    read_binance_session,
)
from thalex_mm.data.cache import (
    CONVERTER_VERSION,
    DataFormat,
    cache_path_for,
    default_cache_dir,
    detect_format,
    load_events,
)
from thalex_mm.data.events import (
    BOOK_KINDS,
    MARKET_EVENT_DTYPE,
    EventKind,
    concat_sorted,
    empty_events,
    events_from_columns,
)
from thalex_mm.data.mapping import map_events
from thalex_mm.data.recording import (
    RECORDING_SUFFIX,
    Record,
    RecordingReader,
    RecordingWriter,
    read_recording,
)
from thalex_mm.data.tardis import convert_tardis, convert_tardis_file, tardis_kind
from thalex_mm.data.validation import validate_book_uncrossed, validate_events

__all__ = [
    "BOOK_KINDS",
    "CONVERTER_VERSION",
    "MARKET_EVENT_DTYPE",
    "RECORDING_SUFFIX",
    "BinanceStats",
    "DataFormat",
    "EventKind",
    "Record",
    "RecordingReader",
    "RecordingWriter",
    "cache_path_for",
    "concat_sorted",
    "convert_binance",
    "convert_tardis",
    "convert_tardis_file",
    "default_cache_dir",
    "detect_format",
    "empty_events",
    "events_from_columns",
    "load_events",
    "map_events",
    "median_clock_offset_ns",
    "read_binance_session",
    "read_recording",
    "tardis_kind",
    "validate_book_uncrossed",
    "validate_events",
]
