"""``billig init``: plan the project's configuration, workflows and first test; print the plan
(``--dry-run``) or write it, pin the contracts, and say what to do next."""

from __future__ import annotations

import difflib

from mirror.commands.console import Echo, echo
from mirror.init.project import InitOptions, Plan, PlannedFile, plan_init, write_plan
from mirror.init.workflows import DRIFT_WORKFLOW

_DONE = {
    "create": "created",
    "replace": "replaced",
    "update": "updated",
    "unchanged": "unchanged",
    "kept": "kept",
}


def init_project(
    options: InitOptions,
    *,
    dry_run: bool = False,
    update_contracts: bool = True,
    provider: str = "auto",
    dsn: str | None = None,
    image: str | None = None,
    out: Echo = echo,
) -> int:
    """Configure the project at ``options.root``; exit code 0 (errors raise)."""
    plan = plan_init(options)
    out(f"billig init: {plan.kind}")
    if plan.schema_file is not None and not any(f.path == plan.schema_file for f in plan.files):
        out(f"  {'found':<16} {plan.schema_file}  (the schema file the mirror is loaded from)")
    if dry_run:
        for planned in plan.files:
            out(_line(planned, dry_run=True))
            if planned.writes:
                out(_preview(planned), nl=False)
        _notes(plan, out)
        out("dry run: nothing was written")
        return 0
    write_plan(plan)
    for planned in plan.files:
        out(_line(planned, dry_run=False))
    _notes(plan, out)
    if update_contracts and plan.schema_file is not None:
        from mirror.commands.contracts import update_contracts as pin
        from mirror.config import load_config

        out("pinning the contracts (billig contracts update):")
        pin(load_config(plan.root), provider, dsn=dsn, image=image, out=out)
    out(_next_steps(plan, pinned=update_contracts and plan.schema_file is not None), nl=False)
    return 0


def _line(planned: PlannedFile, *, dry_run: bool) -> str:
    status = planned.status if dry_run else _DONE[planned.status]
    if dry_run and planned.writes:
        status = f"would {planned.status}"
    why = planned.what
    if planned.status == "kept":
        why = "exists with other content; --force replaces it"
    return f"  {status:<16} {planned.path}" + (f"  ({why})" if why else "")


def _preview(planned: PlannedFile) -> str:
    if planned.old is None:
        body = "".join(f"    | {line}\n" for line in planned.text.splitlines())
        return body
    diff = difflib.unified_diff(
        planned.old.splitlines(keepends=True),
        planned.text.splitlines(keepends=True),
        f"a/{planned.path}",
        f"b/{planned.path}",
    )
    return "".join(f"    {line}" if line.endswith("\n") else f"    {line}\n" for line in diff)


def _notes(plan: Plan, out: Echo) -> None:
    for note in plan.notes:
        out(f"note: {note}")


def _next_steps(plan: Plan, *, pinned: bool) -> str:
    written = [str(f.path) for f in plan.files if f.status != "kept"]
    if plan.schema_file is not None and str(plan.schema_file) not in written:
        written.append(str(plan.schema_file))
    steps = []
    if plan.schema_file is None:
        steps.append("Add the schema file (see the note above), then run: billig contracts update")
    elif not pinned:
        steps.append("Pin the contracts: billig contracts update")
    steps += [
        "Run the checks and the first test: billig check && python -m pytest "
        + next((str(f.path) for f in plan.files if f.path.suffix == ".py"), "tests"),
        f"Review and commit: git add {' '.join(written)} contracts",
        "Add the repository secret BILLIG_PROD_DSN (a read-only login to production Billig) "
        "for the nightly drift job.",
        f"If production is not reachable from GitHub's hosted runners, set runs-on in "
        f"{DRIFT_WORKFLOW} to a self-hosted runner's label.",
    ]
    return "Next steps:\n" + "".join(f"  {n}. {step}\n" for n, step in enumerate(steps, 1))
