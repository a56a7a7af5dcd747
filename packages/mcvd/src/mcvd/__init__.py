"""mcvd — molecular communication via diffusion near reflecting surfaces.

Units throughout: lengths in micrometres (µm), times in seconds (s), diffusion coefficients in
µm²/s. Channel response ``F(t)`` = expected fraction of released molecules absorbed by time ``t``.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
