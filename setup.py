"""Build of thalex-mm: the hot modules compiled to C extensions with mypyc, or pure Python.

Everything else (name, dependencies, entry points) is in pyproject.toml; this file only adds the
compiled build (docs/build.md). ``COMPILED_MODULES`` below is the one list of what is compiled.

The install never fails because of the compiler: when mypyc cannot be imported, the modules do
not type-check, gcc or the Python headers are missing, or compiling fails, it installs the same
sources as pure Python and says why (once, on stderr, and in ``thalex_mm/_build_info.json``,
which ``thalex_mm.build_mode()`` and ``thalex-mm --version`` report). ``THALEX_MM_COMPILE=0``
forces the pure install.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import io
import json
import os
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "src")
BUILD_INFO = "thalex_mm/_build_info.json"

# The compiled modules (paths under src/). Each must type-check under mypy with precise types and
# follow mypyc's rules (docs/build.md, "Adding a module"). Left out on purpose:
#   sim/engine/fast.py   writes constructors with exec at import time (not hot itself);
#   every __init__.py    thalex_mm/__init__.py holds the pure-Python switch; the others are
#                        re-exports only.
COMPILED_MODULES: tuple[str, ...] = (
    *sorted(
        os.path.relpath(p, SRC)
        for p in glob.glob(os.path.join(SRC, "thalex_mm", "core", "*.py"))
        if not p.endswith("__init__.py")
    ),
    "thalex_mm/backtest/tape.py",
    "thalex_mm/backtest/exchange.py",
    "thalex_mm/backtest/runner.py",
    "thalex_mm/sim/engine/accounts.py",
    "thalex_mm/sim/engine/book.py",
    "thalex_mm/sim/engine/core.py",
    "thalex_mm/sim/engine/engine.py",
    "thalex_mm/sim/engine/market.py",
    "thalex_mm/sim/engine/mmp.py",
    "thalex_mm/sim/engine/outputs.py",
    "thalex_mm/sim/engine/queue_models.py",
    "thalex_mm/sim/engine/quoting.py",
    "thalex_mm/sim/engine/validation.py",
)


def _say(message: str) -> None:
    print(f"thalex-mm build: {message}", file=sys.stderr, flush=True)


def _module_name(path: str) -> str:
    return path[: -len(".py")].replace("/", ".")


def _stale_outputs() -> list[str]:
    """Compiled files left in src/ by an earlier in-place (editable) build."""
    found = glob.glob(os.path.join(SRC, "*__mypyc*.so")) + glob.glob(os.path.join(SRC, "*__mypyc*.pyd"))
    for path in COMPILED_MODULES:
        stem = os.path.join(SRC, path[: -len(".py")])
        found += glob.glob(stem + ".*.so") + glob.glob(stem + ".*.pyd")
    return found


def _sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _write_build_info(base_dir: str, compiled: bool, reason: str | None) -> None:
    info = {
        "compiled": compiled,
        "reason": reason,
        "modules": [_module_name(p) for p in COMPILED_MODULES] if compiled else [],
        # the sources compiled (sha256): thalex_mm.stale_modules() finds edits made since
        "sources": {
            _module_name(p): _sha256(os.path.join(SRC, p))
            for p in COMPILED_MODULES
        } if compiled else {},
        "python": sys.version.split()[0],
    }
    target = os.path.join(base_dir, BUILD_INFO)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "w", encoding="utf-8") as f:
        json.dump(info, f, indent=1)
        f.write("\n")


# replaced by mypyc's extensions (or none) when build_ext runs; listed so that it runs
_PLACEHOLDER = [Extension("thalex_mm._compiled_build_placeholder", sources=[])]
# the setuptools commands that build (pip's hooks run bdist_wheel or editable_wheel)
_BUILDS = {"build", "build_ext", "bdist_wheel", "editable_wheel", "install", "develop", "bdist"}


class _State:
    """What this build decided (one process runs every setuptools command)."""

    reason: str | None = None  # why the install is pure, None while it is to be compiled


def _compile_wanted() -> bool:
    if os.environ.get("THALEX_MM_COMPILE", "1").strip().lower() in ("0", "false", "no", "off"):
        _State.reason = "THALEX_MM_COMPILE=0 at install time"
        return False
    return True


def _extensions() -> list:
    """mypyc's extensions for COMPILED_MODULES, or [] (and _State.reason) when it cannot.

    Called by build_ext only: pip runs this file several times per install (requirements,
    metadata, build), and only the build needs mypy's translation to C."""
    try:
        from mypyc.build import mypycify
    except Exception as exc:  # not installed, or broken
        _State.reason = f"mypyc cannot be imported ({type(exc).__name__}: {exc})"
        return []
    out = io.StringIO()
    try:
        t0 = time.monotonic()
        with contextlib.redirect_stdout(out):
            exts = mypycify(
                # modules imported by the compiled ones are read for their types only; no
                # site-packages: third-party modules (numpy, pydantic) are Any, as in pip's
                # isolated build, so every build compiles the same code
                ["--follow-imports=silent", "--ignore-missing-imports", "--no-site-packages",
                 *(f"src/{p}" for p in COMPILED_MODULES)],
                opt_level=os.environ.get("THALEX_MM_OPT_LEVEL", "3"),
                multi_file=True,  # one C file per module: compiled in parallel by _BuildExt
                group_name="thalex_mm",  # the shared library: thalex_mm__mypyc.*.so
                verbose=False,
            )
        _say(f"mypyc translated {len(COMPILED_MODULES)} modules to C in {time.monotonic() - t0:.0f} s")
        return exts
    except BaseException as exc:  # mypy type errors end in SystemExit
        if isinstance(exc, KeyboardInterrupt):
            raise
        errors = [ln for ln in out.getvalue().splitlines() if ": error:" in ln]
        first = errors[0] if errors else f"{type(exc).__name__}: {exc}"
        _State.reason = f"mypyc could not translate the modules ({len(errors)} errors; first: {first})"
        return []
    finally:
        sys.stderr.write(out.getvalue())


def _parallel_compile(compiler, jobs: int):
    """Wrap ``compiler.compile`` so one extension's C files compile ``jobs`` at a time."""
    serial = compiler.compile

    def compile(sources, output_dir=None, macros=None, include_dirs=None, debug=0,
                extra_preargs=None, extra_postargs=None, depends=None):
        if jobs < 2 or len(sources) < 2:
            return serial(sources, output_dir, macros, include_dirs, debug,
                          extra_preargs, extra_postargs, depends)
        # the largest files first, so the last one to finish is a small one
        order = sorted(sources, key=lambda s: -os.path.getsize(s) if os.path.exists(s) else 0)
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            parts = list(pool.map(
                lambda src: serial([src], output_dir, macros, include_dirs, debug,
                                   extra_preargs, extra_postargs, depends), order))
        by_source = dict(zip(order, parts, strict=True))
        return [obj for src in sources for obj in by_source[src]]

    compiler.compile = compile


class _BuildExt(build_ext):
    """Compile in parallel (one job per core); on any failure install pure Python instead."""

    def finalize_options(self) -> None:
        if self.distribution.ext_modules == _PLACEHOLDER:
            # only a build translates (metadata and file lists finalize this command too)
            building = _BUILDS.intersection(self.distribution.commands)
            self.distribution.ext_modules = (
                _extensions() if building and _compile_wanted() else []
            )
        super().finalize_options()

    def run(self) -> None:
        if not self.extensions:
            self._pure()
            return
        t0 = time.monotonic()
        try:
            super().run()
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            _State.reason = f"compiling failed ({type(exc).__name__}: {exc})"
            traceback.print_exc(file=sys.stderr)
            with contextlib.suppress(Exception):
                for path in self.get_outputs():
                    if os.path.exists(path):
                        os.remove(path)
            self.extensions = []
            self._pure()
            return
        _say(f"compiled {len(COMPILED_MODULES)} modules with mypyc in {time.monotonic() - t0:.0f} s")
        self._info(compiled=True)

    def build_extensions(self) -> None:
        jobs = int(os.environ.get("THALEX_MM_BUILD_JOBS", "0")) or os.cpu_count() or 1
        _parallel_compile(self.compiler, jobs)
        super().build_extensions()

    def _pure(self) -> None:
        reason = _State.reason or "nothing to compile"
        if self.inplace or getattr(self, "editable_mode", False):
            for path in _stale_outputs():  # an earlier compiled editable build must not shadow
                os.remove(path)
        _say(f"WARNING: installing pure Python, not compiled: {reason}")
        self._info(compiled=False)

    def _info(self, *, compiled: bool) -> None:
        in_place = self.inplace or getattr(self, "editable_mode", False)
        _write_build_info(SRC if in_place else self.build_lib, compiled, _State.reason)


class _BuildPy(build_py):
    """Record "not compiled" first: build_ext, which always runs after, rewrites the record."""

    def run(self) -> None:
        super().run()
        editable = getattr(self, "editable_mode", False)
        _write_build_info(SRC if editable else self.build_lib, False, "the compiled build did not run")


setup(
    ext_modules=_PLACEHOLDER,
    cmdclass={"build_ext": _BuildExt, "build_py": _BuildPy},
)
