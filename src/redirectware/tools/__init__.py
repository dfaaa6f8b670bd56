"""Operator tools: what runs when a person checks the rules.

Loop and chain analysis (:mod:`.loops`, :mod:`.analysis`), sample requests (:mod:`.samples`)
and running a document's ``tests:`` (:mod:`.expectations`). Each takes a compiled rule set;
nothing below imports them.
"""
