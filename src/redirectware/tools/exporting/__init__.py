"""Exporters: the same rules, written for an edge server (``redirectware export``).

:mod:`.plan` works out what an edge must do to answer as the middleware does (shared by
every server target); :mod:`.nginx`, :mod:`.caddy` and :mod:`.apache` write it in their
server's language, :mod:`.regex` translates a ``from_regex`` for them. :mod:`.cloudflare`
(a Bulk Redirects CSV) and :mod:`.netlify` (a ``_redirects`` file) write what a static list
can say.
"""
