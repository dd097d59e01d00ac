"""Scaffolds: ``eksplatform new-service`` writes a ready service repo (see :mod:`.service_repo`).

The files come from templates kept as package data in ``templates/``, one per file written, so
the program a new repo starts with follows the ServiceStack API from one place.
"""
