"""Command-line interface ``mcvd`` (the top layer: it imports the library, nothing imports it).

``mcvd.cli.main`` is the console entry point; subcommands live in their own modules
(:mod:`mcvd.cli.simulate`, :mod:`mcvd.cli.crosscheck`) and are registered by
:func:`mcvd.cli.main.build_parser`.
"""

from .main import build_parser, main

__all__ = ["build_parser", "main"]
