"""thalex-mm: an Avellaneda-Stoikov / GLFT market maker for Thalex.

One pure core (``thalex_mm.core``), three drivers (live, paper over the simulated
exchange, backtest). See ``docs/`` and the README.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
