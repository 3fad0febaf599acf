"""A JSON Schema ``pattern`` rewritten for llama-cpp-python's grammar converter.

The grammar made from a string schema matches the string's JSON text, not its
value, and the converter copies a pattern into grammar rules almost verbatim.
:func:`grammar_pattern` therefore reads the pattern into a small tree and
writes it back in the converter's terms: characters JSON escapes come out
escaped, every class keeps to characters a JSON string may hold, ``\\d``,
``\\w`` and ``\\s`` become classes, and top-level alternatives are grouped.

Repeats that would leave llama.cpp many grammar stacks per token are refused
(see MAX_SPLITS and MAX_OPEN_PARTS), since sampling runs in the one thread that
serves every request; so are constructs a grammar cannot follow (backreferences,
lookarounds, word boundaries).
"""

from __future__ import annotations

import json
import re

# Counts above this make the converter nest a grammar deeper than llama.cpp's
# parser accepts (it refuses about 2,000 levels and crashes past ~20,000).
MAX_COUNT = 1000

# Copies of a repeated part that can split one answer in several ways (as
# copies of "(a|b){1,10}" can) leave llama.cpp a grammar stack per split, and
# each stack is checked against the whole vocabulary for every token. With a
# 262,144-token vocabulary, 100 splits took 4 to 11 times a plain pattern's
# time per token, 1,000 splits 12 to 46 times, and a part that can match
# nothing repeated 100 times over 5 seconds a token.
MAX_SPLITS = 100
# Each part that may match more or fewer characters (a?, [a-z]{1,5}, (a|bc))
# keeps one more grammar stack alive while the parts after it are still to
# come, so a row of them costs like a repeat that splits: 1,000 of "a?" in a
# row took over a second a token even with a 291-token vocabulary.
MAX_OPEN_PARTS = 32

# A pattern is read into a tree of tuples: ("text", char), ("chars", ranges of
# code points), ("dot",), ("anchor", "^" or "$"), ("group", branches), each
# branch a list of nodes, and ("repeat", node, least, most), with most None
# when unbounded.


class PatternRefused(Exception):
    """A pattern a grammar cannot follow, or would follow too slowly."""


def grammar_pattern(pattern: str) -> str:
    """``pattern`` as the converter must read it to match a string's JSON text.

    Raises PatternRefused, with a message naming the pattern.
    """
    try:
        return _rewritten(pattern)
    except PatternRefused as refused:
        raise PatternRefused(f"the pattern {pattern[:80]!r} {refused}") from None


def _rewritten(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise PatternRefused(f"is not a regular expression ({exc})") from None
    branches = _PatternReader(pattern).branches()
    if branches[0][:1] != [("anchor", "^")] or branches[-1][-1:] != [("anchor", "$")]:
        raise PatternRefused(
            'must start with "^" and end with "$": the answer matches it whole'
        )

    branches = [_unanchored(branch) for branch in branches]
    for node in (node for branch in branches for node in branch):
        _check_repeats(node)
    _check_open_parts(branches)
    body = "|".join("".join(map(_written, branch)) for branch in branches)
    # To a regular expression "^a|b$" is (^a)|(b$), but the converter reads it
    # as one whole-string match; "^(a|b)$" answers meet the original as well.
    return f"^({body})$" if len(branches) > 1 else f"^{body}$"


def _unanchored(branch: list[tuple]) -> list[tuple]:
    start = 1 if branch[:1] == [("anchor", "^")] else 0
    end = -1 if branch[-1:] == [("anchor", "$")] else None
    return branch[start:end]


class _PatternReader:
    """Reads a pattern that ``re.compile`` accepted into a tree."""

    def __init__(self, pattern: str) -> None:
        self.pattern, self.at = pattern, 0

    def branches(self) -> list[list[tuple]]:
        """The alternatives from here to the end or to the closing ")"."""
        branches = [[]]
        while self.at < len(self.pattern) and self.pattern[self.at] != ")":
            if self._take("|"):
                branches.append([])
            elif (counts := self._quantifier()) is not None:
                branches[-1][-1] = ("repeat", branches[-1][-1], *counts)
            else:
                branches[-1].append(self._atom())
        return branches

    def _take(self, text: str) -> bool:
        if self.pattern.startswith(text, self.at):
            self.at += len(text)
            return True
        return False

    def _next(self) -> str:
        self.at += 1
        return self.pattern[self.at - 1]

    def _quantifier(self) -> tuple[int, int | None] | None:
        braces = _BRACES.match(self.pattern, self.at)
        if self.pattern[self.at] in _SIMPLE_QUANTIFIERS:
            counts = _SIMPLE_QUANTIFIERS[self._next()]
        elif braces is None or braces[0] == "{}":  # re reads these as text
            return None
        else:
            self.at = braces.end()
            least, most = int(braces[1] or 0), braces[2]
            counts = (least, least if most is None else int(most) if most else None)
        self._take("?")  # lazy: the same strings match
        if self._take("+"):
            raise PatternRefused(
                "uses a possessive quantifier, which a grammar cannot follow; "
                "drop its last +"
            )
        return counts

    def _atom(self) -> tuple:
        char = self._next()
        if char == "(":
            if self._take("?") and not self._take(":"):
                raise PatternRefused(
                    "uses a (?...) group; a grammar follows plain and (?:...) "
                    "groups only"
                )
            group = ("group", self.branches())
            self.at += 1  # the ")"
            return group
        if char == "[":
            return ("chars", self._class())
        if char == "\\":
            return self._escape(inside_class=False)
        if char == ".":
            return ("dot",)
        return ("anchor", char) if char in "^$" else ("text", char)

    def _class(self) -> list[tuple[int, int]]:
        negated = self._take("^")
        ranges, shorthand = [], False
        while not ranges or self.pattern[self.at] != "]":  # "[]a]" holds "]"
            low = self._class_member()
            shorthand = shorthand or isinstance(low, list)
            follows = self.pattern[self.at : self.at + 2]
            if isinstance(low, int) and follows[:1] == "-" and follows != "-]":
                self.at += 1
                low = [(low, self._class_member())]
            ranges.extend([(low, low)] if isinstance(low, int) else low)
        self.at += 1  # the "]"
        if not negated:
            return _merged(ranges)
        # The shorthands were narrowed to ASCII (see _SHORTHANDS): what a class
        # holding one leaves out must be too, or [^\d] would admit other
        # scripts' digits, which Python's \d matches.
        return _complement(ranges, within=_ASCII if shorthand else None)

    def _class_member(self) -> int | list[tuple[int, int]]:
        char = self._next()
        if char != "\\":
            return ord(char)
        node = self._escape(inside_class=True)
        return ord(node[1]) if node[0] == "text" else node[1]

    def _escape(self, inside_class: bool) -> tuple:
        char = self._next()
        if char in _SHORTHANDS:
            return ("chars", _SHORTHANDS[char])
        if char in _HEX_ESCAPES:
            digits = self.pattern[self.at : self.at + _HEX_ESCAPES[char]]
            self.at += len(digits)
            if 0xD800 <= int(digits, 16) <= 0xDFFF:
                raise PatternRefused(
                    f"holds \\{char}{digits}, a UTF-16 surrogate rather than a "
                    "character; write the character itself"
                )
            return ("text", chr(int(digits, 16)))
        if char == "b" and inside_class:
            return ("text", "\b")
        if char in _CONTROL_ESCAPES:
            return ("text", _CONTROL_ESCAPES[char])
        if char.isascii() and char.isalnum():
            raise PatternRefused(
                f"uses \\{char}, which a grammar cannot follow; write out the "
                "characters it stands for, or leave it out"
            )
        return ("text", char)


def _check_repeats(node: tuple) -> int:
    """How many copies the repeats nested in ``node`` multiply to, at most.

    Raises PatternRefused for repeats a grammar would follow too slowly.
    """
    if node[0] == "group":
        return max((_check_repeats(n) for b in node[1] for n in b), default=1)
    if node[0] != "repeat":
        return 1
    _, item, least, most = node
    copies = max(least, 1) if most is None else most
    total = copies * _check_repeats(item)
    shortest, longest = _lengths(item)
    if total > MAX_COUNT:
        times = f"{total}" if total == copies else f"{total}, nested counts multiplied"
        raise PatternRefused(
            f"repeats more than the {MAX_COUNT} times a grammar can count "
            f"({times}); lower the counts"
        )
    if shortest == 0 and copies > 1:
        raise PatternRefused(
            f"repeats a part that can match nothing {copies} times; make the "
            "repeated part match at least one character, as (a|b){0,5} does "
            "where ((a|b)?){0,5} does not"
        )
    if shortest != longest and total > MAX_SPLITS and not _delimited(item[1]):
        raise PatternRefused(
            f"repeats a part whose copies can split an answer {total} ways, "
            f"more than the {MAX_SPLITS} a grammar follows quickly; lower the "
            "counts, or end each copy with a character found nowhere else in "
            "it, as in ([a-z]{1,10},){0,20}"
        )
    return total


def _check_open_parts(branches: list[list[tuple]]) -> None:
    parts = max(sum(map(_open_parts, branch)) for branch in branches)
    if parts > MAX_OPEN_PARTS:
        raise PatternRefused(
            f"has {parts} parts that may match more or fewer characters "
            f"(optional ones, ranges of counts, alternatives of other lengths), "
            f"more than the {MAX_OPEN_PARTS} a grammar follows quickly; merge "
            "neighbouring ones, as a{0,5} does for a?a?a?a?a?"
        )


def _open_parts(node: tuple) -> int:
    """How many parts of variable length ``node`` holds, repeats multiplied."""
    if node[0] == "group":
        inner = max(sum(map(_open_parts, branch)) for branch in node[1])
        shortest, longest = _lengths(node)
        return inner + (shortest != longest)
    if node[0] != "repeat":
        return 0
    _, item, least, most = node
    copies = max(least, 1) if most is None else most
    return copies * _open_parts(item) + (least != most)


def _lengths(node: tuple) -> tuple[int, int | None]:
    """The fewest and the most characters ``node`` matches (None: no limit)."""
    if node[0] == "repeat":
        shortest, longest = _lengths(node[1])
        most = node[3]
        return shortest * node[2], None if None in (longest, most) else longest * most
    if node[0] != "group":
        return (0, 0) if node[0] == "anchor" else (1, 1)
    spans = [[_lengths(n) for n in branch] for branch in node[1]]
    longest = [
        None if None in (m for _, m in b) else sum(m for _, m in b) for b in spans
    ]
    shortest = min(sum(s for s, _ in branch) for branch in spans)
    return shortest, None if None in longest else max(longest)


def _delimited(branches: list[list[tuple]]) -> bool:
    """Whether each copy of a group starts, or ends, with a character it holds
    nowhere else, so that copies split an answer one way only."""
    return any(_edge_apart(branches, edge) for edge in (0, -1))


def _edge_apart(branches: list[list[tuple]], edge: int) -> bool:
    edges, others = [], []
    for branch in branches:
        if not branch or branch[edge][0] not in ("text", "chars"):
            return False
        edges.append(branch[edge])
        others.extend(branch[1:] if edge == 0 else branch[:-1])
    return not _intersection(_characters(edges), _characters(others))


def _characters(nodes: list[tuple]) -> list[tuple[int, int]]:
    """Every character ``nodes`` can match."""
    ranges = []
    for node in nodes:
        if node[0] == "text":
            ranges.append((ord(node[1]), ord(node[1])))
        elif node[0] == "chars":
            ranges.extend(node[1])
        elif node[0] == "dot":
            return [(0, _LAST_CODE)]
        elif node[0] in ("group", "repeat"):
            inner = node[1] if node[0] == "group" else [[node[1]]]
            ranges.extend(_characters([n for branch in inner for n in branch]))
    return _merged(ranges)


def _written(node: tuple) -> str:
    """``node`` in the converter's syntax, over the JSON text of the string."""
    kind = node[0]
    if kind == "text":
        return _written_character(node[1])
    if kind == "chars":
        return _written_class(node[1])
    if kind == "dot":
        return "."  # the converter's dot rule, made JSON-safe above
    if kind == "group":
        return "(" + "|".join("".join(map(_written, b)) for b in node[1]) + ")"
    if kind == "anchor":
        raise PatternRefused(
            'has "^" or "$" inside it; the answer matches the pattern whole, '
            "so anchors belong only at its start and end"
        )
    _, item, least, most = node
    if most == 0:
        return ""
    if most is None:
        return _written(item) + {0: "*", 1: "+"}.get(least, f"{{{least},}}")
    if (least, most) == (0, 1):
        return _written(item) + "?"
    return _written(item) + (f"{{{least}}}" if least == most else f"{{{least},{most}}}")


def _written_character(char: str) -> str:
    if char in '"\\' or char < " " or char == "\x7f":
        # JSON writes it as an escape, which the converter must read as text.
        return "(" + json.dumps(char)[1:-1].replace("\\", "\\\\") + ")"
    if char in _CONVERTER_SYNTAX:
        return _written_class([(ord(char), ord(char))])
    return char


def _written_class(ranges: list[tuple[int, int]]) -> str:
    if not ranges:
        raise PatternRefused(
            "has a character class that matches no character at all (such as "
            "[^\\s\\S]); no string can meet it"
        )
    safe = _intersection(ranges, _JSON_STRING_CHARACTERS)
    if not safe:
        raise PatternRefused(
            "has a character class of only characters a JSON string escapes "
            "(quotes, backslashes, control characters); write such a "
            "character outside a class"
        )
    items = (
        _class_character(low) + ("" if low == high else "-" + _class_character(high))
        for low, high in safe
    )
    return "[" + "".join(items) + "]"


def _class_character(code: int) -> str:
    if chr(code).isascii() and chr(code).isalnum():
        return chr(code)
    if code <= 0xFF:
        return f"\\x{code:02X}"
    return f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def _complement(
    ranges: list[tuple[int, int]], within: list[tuple[int, int]] | None = None
) -> list[tuple[int, int]]:
    """Every code point outside ``ranges``; only those ``within`` when given."""
    gaps, start = [], 0
    for low, high in _merged(ranges):
        if low > start:
            gaps.append((start, low - 1))
        start = high + 1
    if start <= _LAST_CODE:
        gaps.append((start, _LAST_CODE))
    return gaps if within is None else _intersection(gaps, within)


def _intersection(ranges, others) -> list[tuple[int, int]]:
    return _complement(_complement(ranges) + _complement(others))


_LAST_CODE = 0x10FFFF
# As serving.structured_output's string character: no quotes, backslashes,
# control characters or surrogates.
_JSON_STRING_CHARACTERS = _complement(
    [(0x00, 0x1F), (0x22, 0x22), (0x5C, 0x5C), (0x7F, 0x7F), (0xD800, 0xDFFF)]
)
# Shorthands hold what both JSON Schema (ASCII) and Python (Unicode) match, so
# answers meet the pattern under either: \D, \W and \S keep to printable ASCII,
# and \s is a space alone, as a JSON string may not hold a raw tab or newline.
_ASCII = [(0x20, 0x7E)]
_DIGITS = [(0x30, 0x39)]
_WORD = [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)]
_SHORTHANDS = {
    "d": _DIGITS,
    "D": _complement(_DIGITS, within=_ASCII),
    "w": _WORD,
    "W": _complement(_WORD, within=_ASCII),
    "s": [(0x20, 0x20)],
    "S": [(0x21, 0x7E)],
}
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}
_CONTROL_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "f": "\f", "v": "\v"}
_SIMPLE_QUANTIFIERS = {"*": (0, None), "+": (1, None), "?": (0, 1)}
_BRACES = re.compile(r"\{(\d*)(?:,(\d*))?\}")
# What the converter reads as syntax, or strips as the anchors.
_CONVERTER_SYNTAX = set("|.()[]{}*+?^$")
