"""Export a compiled rule set to a target, whole or (``partial``) without what it cannot say."""

from __future__ import annotations

from collections.abc import Callable

from redirectware.engine.engine import Engine

from . import apache, caddy, cloudflare, nginx
from .plan import EdgePlan, ExportError, build_plan

#: Each edge server's writer: the plan and the comments for rules left out, to the text.
TARGETS: dict[str, Callable[[EdgePlan, list[str]], str]] = {
    "nginx": nginx.render,
    "caddy": caddy.render,
    "apache": apache.render,
}
#: Every format ``export`` writes: the servers above, and Cloudflare's Bulk Redirects CSV.
FORMATS = (*TARGETS, "cloudflare")


def export(engine: Engine, target: str, partial: bool = False) -> str:
    """The configuration for ``target`` (``"nginx"``, ``"caddy"``).

    Raises :class:`ExportError` naming file:line:rule and why for each part the target cannot
    express; with ``partial`` those rules are left out instead, each with a comment.
    """
    if target == "cloudflare":
        return cloudflare.export_csv(engine, partial)[0]
    plan = build_plan(engine, target)
    if plan.problems and not partial:
        raise ExportError(target, plan.problems)
    left_out = {problem.rule for problem in plan.problems}
    plan.entries = [entry for entry in plan.entries if entry.rule.label not in left_out]
    return TARGETS[target](plan, [str(problem) for problem in plan.problems])
