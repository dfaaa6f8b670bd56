"""How the cost of a request grows with the number of ``from_regex`` rules.

    .venv/bin/python benchmarks/regex_rules.py
    .venv/bin/python benchmarks/regex_rules.py --counts 1 10 100 --repeat 20000

Exact and template rules are found through the index whatever their number; ``from_regex``
rules are tried one by one, in document order, each an RE2 match of the path. This prints,
for each number of regex rules, the time ``RuleSet.resolve`` takes (nothing remembered) for a
path no rule matches (every regex rule tried) and for one the last regex rule matches, next
to the same numbers with the rules written as templates.
"""

from __future__ import annotations

import argparse
import timeit
from typing import Any

from redirectware import RuleSet


def _documents(count: int) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    regex = [
        {"from_regex": rf"/section{n}/(?P<year>\d{{4}})/(?P<slug>[^/]+)", "to": "/s/{year}/{slug}"}
        for n in range(count)
    ]
    templates = [
        {"from": f"/section{n}/{{year:int}}/{{slug}}", "to": "/s/{year}/{slug}"}
        for n in range(count)
    ]
    # The same patterns with no literal prefix to refuse a path by: RE2 runs on every path.
    unprefixed = [{**rule, "from_regex": "(?:/)" + rule["from_regex"][1:]} for rule in regex]
    return {"rules": regex}, {"rules": templates}, {"rules": unprefixed}


def _per_call(rules: RuleSet, path: str, repeat: int) -> float:
    def call() -> None:
        rules.resolve("GET", "http", "example.com", path)

    call()
    return min(timeit.repeat(call, number=repeat, repeat=3)) / repeat * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 10, 100, 1000])
    parser.add_argument("--repeat", type=int, default=5000)
    args = parser.parse_args()
    print(
        "regex rules | miss (regex) | last hit (regex) | miss (templates) | hit (templates)"
        " | miss (regex, no literal prefix)"
    )
    for count in args.counts:
        regex, templates, unprefixed = _documents(count)
        by_regex, by_template = RuleSet.from_dict(regex), RuleSet.from_dict(templates)
        by_unprefixed = RuleSet.from_dict(unprefixed)
        miss, hit = "/other/2024/post", f"/section{count - 1}/2024/post"
        assert by_regex.resolve("GET", "http", "example.com", hit).status == 302
        row = [
            _per_call(by_regex, miss, args.repeat),
            _per_call(by_regex, hit, args.repeat),
            _per_call(by_template, miss, args.repeat),
            _per_call(by_template, hit, args.repeat),
            _per_call(by_unprefixed, miss, args.repeat),
        ]
        print(f"{count:>11} | " + " | ".join(f"{value:10.1f} µs" for value in row))


if __name__ == "__main__":
    main()
