"""The package version, defined once (``dmfsharp.__version__`` and the wheel metadata read it)."""

__version__ = "0.1.0"
