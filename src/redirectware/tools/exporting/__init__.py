"""Exporters: the same rules, written for an edge server (``redirectware export``).

:mod:`.plan` works out what an edge must do to answer as the middleware does (shared by every
target); :mod:`.nginx` and :mod:`.caddy` write it in their server's language.
"""
