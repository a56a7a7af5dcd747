"""Layer 0 — the channel and its analytic models.

Geometry and scenarios, the free-space formulas, the image and Kelvin series, the static and
Laplace-domain multipole solvers, the model registry (:func:`mcvd.core.models.response`,
:func:`mcvd.core.models.capture`), response curves and metrics, reference curves, atomic I/O and
the basic figures. Nothing here imports the simulators, the studies or the CLI.
"""
