"""Layer 3 — studies and reports built on the models and the simulators.

The accuracy map of the closed forms (:mod:`mcvd.studies.accuracy`), the closed forms in corners
and with several receivers (:mod:`mcvd.studies.geometries`), its simulator cross-check
(:mod:`mcvd.studies.crosscheck`), the paper's simulation studies (:mod:`mcvd.studies.paper`) and
the demo report (:mod:`mcvd.studies.demo`), with their figures.
"""
