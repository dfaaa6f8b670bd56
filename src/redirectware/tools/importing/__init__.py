"""Importers: other tools' redirects as a redirectware document (``redirectware import``).

Each format's module reads its source into an :class:`~.result.ImportResult` (what was
translated, with the source line of each rule and the source tool's answers as ``tests:``;
what was not, and why); :mod:`.writing` turns that into YAML and, for big exact lists, a CSV
map; :mod:`.formats` names the readers.
"""
