"""Cost tooling for the platform team: ``eksplatform cost`` (what spot saves per pool and stack,
and what each service costs), its price table and its arithmetic.

An audience of its own (like ``preview``): it reads the cluster's config model and the rendered
previews, so it may import ``eksplatform.cluster`` and ``eksplatform.preview``; nothing else in
the library imports it.
"""
