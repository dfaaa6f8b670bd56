"""The document layer: what runs when rules load.

Reading YAML, JSON and CSV with line numbers (:mod:`.sources`, :mod:`.mapfile`), validating
every key and compiling the rules into the engine's model (:mod:`.loading`), and reading the
document's own ``tests:`` (:mod:`.expectations`, :mod:`.probes`). Imports only the engine.
"""
