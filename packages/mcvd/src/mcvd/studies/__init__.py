"""Layer 3 — studies and reports built on the models and the simulators.

The accuracy map of the closed forms (:mod:`mcvd.studies.accuracy`), its simulator cross-check
(:mod:`mcvd.studies.crosscheck`), the paper's simulation studies (:mod:`mcvd.studies.paper`) and
the demo report (:mod:`mcvd.studies.demo`), with their figures.
"""
