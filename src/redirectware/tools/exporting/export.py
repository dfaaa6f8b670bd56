"""Export a compiled rule set to a target, whole or (``partial``) without what it cannot say."""

from __future__ import annotations

from collections.abc import Callable

from redirectware.engine.engine import Engine

from . import apache, caddy, cloudflare, netlify, nginx
from .plan import EdgePlan, Exported, ExportError, build_plan

#: Each edge server's writer: the plan and the comments for rules left out, to the text.
TARGETS: dict[str, Callable[[EdgePlan, list[str]], str]] = {
    "nginx": nginx.render,
    "caddy": caddy.render,
    "apache": apache.render,
}
#: Every format ``export`` writes: the servers above, Cloudflare's Bulk Redirects CSV and
#: Netlify's ``_redirects``.
FORMATS = (*TARGETS, "cloudflare", "netlify")


def export_all(engine: Engine, target: str, partial: bool = False) -> Exported:
    """The configuration for ``target`` with what was left out of it.

    Raises :class:`ExportError` naming file:line:rule and why for each part the target cannot
    express; with ``partial`` those rules are left out instead, each listed in the file's
    header and in :attr:`Exported.left_out`.
    """
    if target == "cloudflare":
        return cloudflare.export_csv(engine, partial)
    if target == "netlify":
        return netlify.export_redirects(engine, partial)
    plan = build_plan(engine, target)
    if plan.problems and not partial:
        raise ExportError(target, plan.problems)
    left_out = {problem.rule for problem in plan.problems}
    plan.entries = [
        entry
        for entry in plan.entries
        if entry.rule.label not in left_out
        and not any(hop.label in left_out for hop in entry.through)
    ]
    text = TARGETS[target](plan, [str(problem) for problem in plan.problems])
    return Exported(text, list(plan.problems), [], len(plan.entries))


def export(engine: Engine, target: str, partial: bool = False) -> str:
    """The configuration's text for ``target`` (see :func:`export_all`)."""
    return export_all(engine, target, partial).text
