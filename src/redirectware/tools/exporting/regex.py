"""A ``from_regex`` written for an edge: the same matches, on the request target as sent.

The middleware matches the pattern (RE2) against the request's **canonical** path
(``engine/regex.py``): escapes of unreserved characters decoded (``%61`` is ``a``), other
escapes with upper-case hex, and under ``trailing_slash_match: ignore`` one trailing slash
dropped. nginx, Caddy and Apache only see the target as the client sent it. So the pattern
is translated piece by piece, never copied:

* a literal character accepts each raw spelling of itself (``a`` as ``a``, ``%61`` or
  ``%6a``... as the template literals do), a literal escape ``%C3`` either case of its hex;
* a class that cannot match ``%`` accepts its characters and the escapes of its unreserved
  ones, so one canonical character is one raw unit and every count (``{4}``) still holds;
* a part that can match ``%`` is only translated where it cannot split an escape
  differently: an unbounded repeat (``.*``, ``[^/]+``) of everything (or everything but
  ``/``), at the end of the pattern or before a literal ``/``. The raw and the canonical
  paths then have the same ``/`` at the same places, and what lies between is taken whole;
* named groups become the entry's captures; other groups do not capture;
* ``case_sensitive: false`` (RE2's option) accepts both cases of each letter;
* ``trailing_slash_match: ignore`` accepts one more ``/``, for a pattern that can never
  match a path ending with ``/`` (else the extra slash could be taken by the pattern).

What cannot be translated so (look-around and back-references are refused by RE2 already;
inline flags, ``\\b``, a ``%`` that is not a percent-escape of a reserved or non-ASCII byte,
a bounded repeat of what can match ``%``) raises :class:`Untranslatable` with the reason.
The pattern's structure is read with Python's regex *parser* only: nothing here compiles
or runs the pattern with Python's ``re``.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

from redirectware.engine.urls import PATH_SAFE, UNRESERVED

#: Characters a canonical path holds (outside the hex digits of an escape).
_PATH_CHARS = frozenset(PATH_SAFE) | UNRESERVED | {"%"}
_HEX = frozenset("0123456789ABCDEF")
_REGEX_SPECIAL = frozenset(".$()*+?|^[]{}")


class Untranslatable(ValueError):
    """A pattern (part) that cannot match the raw target as it matches the canonical path."""


def _parser() -> Any:
    # re._parser from 3.11, sre_parse before; the old name warns on 3.11 and later.
    try:
        return importlib.import_module("re._parser")
    except ImportError:  # pragma: no cover - Python 3.10
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return importlib.import_module("sre_parse")


def _constants() -> Any:
    try:
        return importlib.import_module("re._constants")
    except ImportError:  # pragma: no cover - Python 3.10
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return importlib.import_module("sre_constants")


def _hex(digit: str) -> str:
    return digit if digit.isdigit() else f"[{digit.upper()}{digit.lower()}]"


def _escape_of(char: str) -> str:
    code = f"{ord(char):02X}"
    return "%" + _hex(code[0]) + _hex(code[1])


def _one(char: str) -> str:
    return f"[{char}]" if char in _REGEX_SPECIAL else char


def _class(chars: set[str]) -> str:
    """A class of path characters, written without a backslash (``-`` last)."""
    body = "".join(sorted(chars - {"-"})) + ("-" if "-" in chars else "")
    return f"[{body}]"


def _units(chars: set[str]) -> str:
    """Each raw spelling of each canonical character of ``chars`` (none of them ``%``)."""
    options = [_class(chars)] if chars else []
    options += [_escape_of(char) for char in sorted(chars & UNRESERVED)]
    if not options:
        raise Untranslatable("a class that no path character matches")
    return options[0] if len(options) == 1 else "(?:" + "|".join(options) + ")"


class _Translator:
    def __init__(self, prefix: str, fold: bool) -> None:
        self.prefix = prefix
        self.fold = fold
        self.c = _constants()
        self.names: dict[int, str] = {}

    # --- what an atom matches ------------------------------------------------------------

    def _category(self, category: Any) -> set[str]:
        c = self.c
        digits = set("0123456789")
        word = {chr(n) for n in range(128) if chr(n).isalnum()} | {"_"}
        space = set(" \t\n\r\f\v")
        every = {chr(n) for n in range(128)}
        table = {
            c.CATEGORY_DIGIT: digits,
            c.CATEGORY_NOT_DIGIT: every - digits,
            c.CATEGORY_WORD: word,
            c.CATEGORY_NOT_WORD: every - word,
            c.CATEGORY_SPACE: space,
            c.CATEGORY_NOT_SPACE: every - space,
        }
        if category not in table:
            raise Untranslatable(f"the class {category} has no translation")
        return table[category]

    def atom_set(self, op: Any, av: Any) -> set[str] | None:
        """The ASCII characters an atom matches in a canonical path, or None if not an atom."""
        c = self.c
        every = {chr(n) for n in range(128)} - {"\n"}
        found: set[str]
        if op is c.ANY:
            found = every
        elif op is c.NOT_LITERAL:
            found = every - {chr(av)}
        elif op is c.IN:
            found = set()
            negate = False
            for kind, value in av:
                if kind is c.NEGATE:
                    negate = True
                elif kind is c.LITERAL:
                    found.add(chr(value))
                elif kind is c.RANGE:
                    found |= {chr(n) for n in range(value[0], min(value[1], 127) + 1)}
                elif kind is c.CATEGORY:
                    found |= self._category(value)
                else:
                    raise Untranslatable(f"the class item {kind} has no translation")
            if negate:
                found = every - found
        else:
            return None
        if self.fold:
            found |= {char.swapcase() for char in found if char.isascii() and char.isalpha()}
        return found & _PATH_CHARS

    def percent_atom(self, chars: set[str]) -> str:
        """A raw unit run for an atom that matches ``%`` (see the module docstring)."""
        needed = (_PATH_CHARS - {"/"}) | _HEX
        if not needed <= chars:
            raise Untranslatable(
                "a part that matches '%' but not every other path character: it could match "
                "part of a percent-escape, which the request may spell differently"
            )
        return "[^?]" if "/" in chars else "[^/?]"

    # --- the translation ----------------------------------------------------------------

    def sequence(self, items: list[tuple[Any, Any]], follow: str, top: bool) -> str:
        c = self.c
        out: list[str] = []
        index = 0
        while index < len(items):
            op, av = items[index]
            after = self.follow_of(items, index + 1, follow)
            if op is c.AT:
                if av in (c.AT_BEGINNING, c.AT_BEGINNING_STRING) and top and index == 0:
                    index += 1
                    continue
                if (
                    av in (c.AT_END, c.AT_END_STRING)
                    and follow == "end"
                    and (index == len(items) - 1)
                ):
                    index += 1
                    continue
                raise Untranslatable("an anchor or \\b inside the pattern has no translation")
            if op is c.LITERAL and chr(av) == "%":
                escape = items[index + 1 : index + 3]
                digits = "".join(chr(v) for k, v in escape if k is c.LITERAL)
                if (
                    len(digits) != 2
                    or not set(digits) <= _HEX
                    or chr(int(digits, 16)) in UNRESERVED
                ):
                    raise Untranslatable(
                        "a '%' that is not a percent-escape in upper-case hex of a reserved or "
                        "non-ASCII byte: the path it is matched against never holds it"
                    )
                out.append("%" + _hex(digits[0]) + _hex(digits[1]))
                index += 3
                continue
            out.append(self.item(op, av, after))
            index += 1
        return "".join(out)

    def follow_of(self, items: list[tuple[Any, Any]], index: int, follow: str) -> str:
        """What comes after an item: ``end``, ``slash`` (a literal ``/``) or ``other``."""
        c = self.c
        if index >= len(items):
            return follow
        op, av = items[index]
        if op is c.LITERAL and chr(av) == "/":
            return "slash"
        if op is c.AT and av in (c.AT_END, c.AT_END_STRING) and index == len(items) - 1:
            return follow
        return "other"

    def item(self, op: Any, av: Any, follow: str) -> str:
        c = self.c
        if op is c.LITERAL:
            char = chr(av)
            if char not in _PATH_CHARS:
                raise Untranslatable(
                    f"{char!r} never stands unescaped in the path it is matched against"
                )
            spelled = {char, char.swapcase()} if self.fold and char.isalpha() else {char}
            return _units(spelled)
        chars = self.atom_set(op, av)
        if chars is not None:
            if "%" in chars:
                raise Untranslatable(
                    "a single character that may be '%' (or part of an escape): the request "
                    "may spell that character as an escape of three"
                )
            return _units(chars)
        if op is c.SUBPATTERN:
            group, add_flags, del_flags, body = av
            if add_flags or del_flags:
                raise Untranslatable("inline flags such as (?i) have no translation")
            inner = self.sequence(list(body), follow, False)
            name = self.names.get(group) if group else None
            return f"(?P<{self.prefix}{name}>{inner})" if name else f"(?:{inner})"
        if op is c.BRANCH:
            return "(?:" + "|".join(self.sequence(list(b), follow, False) for b in av[1]) + ")"
        if op in (c.MAX_REPEAT, c.MIN_REPEAT):
            low, high, body = av
            lazy = "?" if op is c.MIN_REPEAT else ""
            body = list(body)
            if len(body) == 1:
                chars = self.atom_set(*body[0])
                if chars is not None and "%" in chars:
                    if high != c.MAXREPEAT or low > 1 or follow not in ("end", "slash"):
                        raise Untranslatable(
                            "a repeat of what may match '%' must be unbounded (* or +) and end "
                            "the pattern or come before a '/': elsewhere a percent-escape, "
                            "one character or three, could end it at another place"
                        )
                    return self.percent_atom(chars) + ("*" if low == 0 else "+") + lazy
            inner = self.sequence(body, "other", False)
            if high == c.MAXREPEAT:
                quantifier = {0: "*", 1: "+"}.get(low, f"{{{low},}}")
            elif (low, high) == (0, 1):
                quantifier = "?"
            else:
                quantifier = f"{{{low}}}" if low == high else f"{{{low},{high}}}"
            return f"(?:{inner}){quantifier}{lazy}"
        raise Untranslatable(f"{str(op).lower()} has no translation")

    def may_end_with_slash(self, items: list[tuple[Any, Any]]) -> bool:
        """Whether a match may end with ``/`` (conservative: True when unsure)."""
        c = self.c
        for op, av in reversed(items):
            if op is c.AT:
                continue
            if op is c.LITERAL:
                return chr(av) == "/"
            chars = self.atom_set(op, av)
            if chars is not None:
                return "/" in chars
            if op is c.SUBPATTERN:
                return self.may_end_with_slash(list(av[3]))
            if op in (c.MAX_REPEAT, c.MIN_REPEAT) and av[0] >= 1:
                return self.may_end_with_slash(list(av[2]))
            return True
        return True


def translate(source: str, prefix: str, fold: bool, ignore_slash: bool) -> str:
    """``source`` (a ``from_regex``) as a regex over the raw path, anchored by the caller;
    named groups ``prefix + name``. :class:`Untranslatable` says why it cannot be."""
    if "{," in source or "\\p" in source or "\\P" in source or "\\Q" in source:
        raise Untranslatable("{,n}, \\p and \\Q are read differently by the edge servers")
    try:
        parsed = _parser().parse(source)
    except Exception as error:
        raise Untranslatable(f"the pattern cannot be read for translation ({error})") from None
    if parsed.state.flags & ~_constants().SRE_FLAG_UNICODE:
        raise Untranslatable("inline flags such as (?i) have no translation")
    translator = _Translator(prefix, fold)
    translator.names = {number: name for name, number in parsed.state.groupdict.items()}
    items = list(parsed.data)
    text = translator.sequence(items, "end", True)
    if ignore_slash:
        if translator.may_end_with_slash(items):
            raise Untranslatable(
                "under trailing_slash_match: ignore, a pattern that may match a path ending "
                "with '/' cannot be told from the slash the middleware drops"
            )
        text += "/?"
    return text
