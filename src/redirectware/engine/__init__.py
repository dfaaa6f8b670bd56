"""The engine: what runs on every request.

The compiled model (:mod:`.model`), matching and the rule index (:mod:`.matching`), the
rule kinds' behaviour and the chain of hops (:mod:`.engine`), the answers' bytes
(:mod:`.responses`), URL, host, proxy and status helpers, and the answer memory
(:mod:`.memo`). It imports nothing from the layers above it (``tests/test_layers.py``).
"""
