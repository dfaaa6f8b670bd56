"""Choosing a language from ``Accept-Language`` (RFC 9110 section 12.5.4) by RFC 4647's
"lookup": what a ``language`` rule does on a request.

* Each range of the header has a quality (``q``, 1 when absent). ``q=0`` makes a language
  unacceptable: ``fr;q=0`` excludes ``fr`` and every ``fr-...`` tag, whatever else says.
* The highest quality wins. A range that names no available tag falls back by truncation,
  as lookup does: ``pt-BR`` tries ``pt-BR``, then ``pt``; ``de-CH-1996`` tries ``de-CH``,
  then ``de``. ``*`` stands for any available language.
* Among the ranges of the highest quality that find a tag, the order of ``available`` breaks
  the tie: the site's own preference, not the order a browser happened to list them in.
* Tags compare without case (``EN-us`` is ``en-US``); the tag chosen is the ``available``
  entry as written.

A header is client input: malformed ranges are skipped, not refused, and only the first
:data:`MAX_RANGES` ranges are read, so an 8 KB header of junk costs no more than a short one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

#: Ranges read from one header; a real browser sends fewer than ten.
MAX_RANGES = 32
#: Longest range read (RFC 4647's ranges are subtags of at most 8 characters joined by "-").
MAX_RANGE_LENGTH = 64


@dataclass(frozen=True)
class Range:
    """One language range of an ``Accept-Language`` header and its quality."""

    tag: str
    quality: float


@dataclass(frozen=True)
class Choice:
    """The outcome of a negotiation: the tag chosen (or None), and how it was found."""

    tag: str | None
    ranges: tuple[Range, ...]
    why: str


def parse_ranges(header: str) -> Iterator[Range]:
    """The well-formed ranges of ``header``, in the order sent; malformed ones skipped."""
    for count, part in enumerate(header.split(",")):
        if count >= MAX_RANGES:
            return
        tag, _, params = part.partition(";")
        tag = tag.strip().lower()
        if not tag or len(tag) > MAX_RANGE_LENGTH or not _is_range(tag):
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                parsed = _quality(value.strip())
                if parsed is None:
                    break
                quality = parsed
        else:
            yield Range(tag, quality)


def _is_range(tag: str) -> bool:
    if tag == "*":
        return True
    return all(0 < len(sub) <= 8 and sub.isascii() and sub.isalnum() for sub in tag.split("-"))


def _quality(text: str) -> float | None:
    # RFC 9110's qvalue: 0 to 1 with at most three decimals; anything else is malformed.
    if (
        not text
        or len(text) > 5
        or text[0] not in "01"
        or any(c not in "0123456789." for c in text)
    ):
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if 0.0 <= value <= 1.0 else None


class Negotiator:
    """The languages a rule offers, and the choice for one request."""

    __slots__ = ("_by_lower", "available")

    def __init__(self, available: tuple[str, ...]) -> None:
        self.available = available
        self._by_lower = {tag.lower(): index for index, tag in enumerate(available)}

    def offered(self, tag: str) -> str | None:
        """The available entry ``tag`` names (without case), or None."""
        index = self._by_lower.get(tag.strip().lower())
        return None if index is None else self.available[index]

    def choose(self, header: str | None) -> Choice:
        """The language ``header`` asks for, by lookup; ``Choice.tag`` None when none fits."""
        if not header:
            return Choice(None, (), "no Accept-Language header")
        ranges = tuple(parse_ranges(header))
        excluded = {
            index
            for r in ranges
            if r.quality == 0.0
            for lower, index in self._by_lower.items()
            if r.tag == "*" or lower == r.tag or lower.startswith(r.tag + "-")
        }
        for quality in sorted({r.quality for r in ranges if r.quality > 0.0}, reverse=True):
            found = {
                index
                for r in ranges
                if r.quality == quality
                for index in self.lookup(r.tag)
                if index not in excluded
            }
            if found:
                tag = self.available[min(found)]
                return Choice(tag, ranges, f"the highest q ({quality:g}) that an available "
                              f"language meets: {tag}")  # fmt: skip
        return Choice(None, ranges, "no acceptable language is available")

    def lookup(self, tag: str) -> Iterator[int]:
        """The indexes of the available tags a range finds: by truncation, or all for ``*``."""
        if tag == "*":
            yield from range(len(self.available))
            return
        while True:
            index = self._by_lower.get(tag)
            if index is not None:
                yield index
                return
            tag, dash, _ = tag.rpartition("-")
            if not dash:
                return
            # RFC 4647 3.4: a single-character subtag left at the end goes with the next.
            if len(tag) > 1 and tag[-2] == "-":
                tag = tag[:-2]
