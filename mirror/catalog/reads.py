"""Whether the site's models can read what the contract pins: compatible reads are compatible.

A model over Billig reads; it never writes (Billig belongs to another team). So a model is
judged by what reading gives it, not by whether its declared type is spelled like the column's:
a field reads a column when every value the column can hold fits the field (a
``CharField(max_length=5)`` reads ``character(5)``, a ``CharField(max_length=20)`` a PostgreSQL
enum whose labels are at most 20 characters long, an ``IntegerField`` a domain over
``integer``, a Django ``DateTimeField`` a ``timestamp`` with or without time zone); a model's
primary key over a table without one reads the same rows (Django needs one, so the model names
one), as does a key over a unique constraint, or a foreign key the table does not enforce;
defaults only matter to writers; and a model need not know whether it reads a view. What is
left is what breaks a reader: a column missing, values of another kind or longer than the field
declares (its serializers and API schema promise that bound), NULL where the model declares NOT
NULL, a different key.
"""

from __future__ import annotations

from dataclasses import replace

from mirror.catalog.compare import compare_catalogs
from mirror.catalog.compare.types import TypeChange, classify_type_change, read_as
from mirror.catalog.findings import Finding, FindingKind
from mirror.catalog.model import Catalog, Relation

WIDENING = TypeChange.WIDENING


def incompatible_reads(contract: Catalog, models: Catalog) -> list[Finding]:
    """Findings where a model cannot read the contract's relations as it declares them.

    Subset semantics: the contract may have more relations and columns than the models read.
    Findings are the comparator's (models as expected, the contract as actual), so they name
    the model's readers and can be declared in a policy like drift findings. A model column's
    labels are its field's choices: an enum label they lack is a value the model reads but
    does not declare (its serializers and API schema promise only the choices).
    """
    out = []
    for f in compare_catalogs(models, contract, report_added=False):
        if _compatible(f, models, contract):
            continue
        if f.kind is FindingKind.ENUM_LABELS_CHANGED and f.actual is not None:
            pinned = contract.get((f.schema, f.relation or ""))
            column = pinned.column(f.column or "") if pinned is not None else None
            enum = column.type if column is not None else "the enum"
            f = replace(
                f,
                message=f"column {f.object} holds labels of {enum} that the model's choices lack: "
                f"choices {f.expected}; labels {f.actual}",
            )
        out.append(f)
    return out


def _compatible(finding: Finding, models: Catalog, contract: Catalog) -> bool:
    kind, change = finding.kind, finding.change
    if kind in (FindingKind.RELATION_KIND_CHANGED, FindingKind.DEFAULT_CHANGED):
        return True
    if kind is FindingKind.NULLABILITY_CHANGED:
        return change == "tightened"
    if kind is FindingKind.FOREIGN_KEY_CHANGED:
        return change == "removed"  # the model's join still reads; only the constraint is gone
    key = finding.key
    model = models.get(key) if key is not None else None
    pinned = contract.get(key) if key is not None else None
    if model is None or pinned is None:
        return False
    if kind is FindingKind.ENUM_LABELS_CHANGED:
        # Choices the enum lacks are values the model never meets; labels its choices lack are
        # values it meets without declaring them.
        return change in ("removed", "reordered")
    if kind is FindingKind.PRIMARY_KEY_CHANGED:
        return _key_reads(model, pinned)
    if kind is FindingKind.TYPE_CHANGED and finding.column is not None:
        declared, read = model.column(finding.column), pinned.column(finding.column)
        if declared is None or read is None:
            return False
        holds = read_as(read)
        if read.type in declared.also_reads or holds in declared.also_reads:
            return True  # the framework converts it (Django: timestamptz into a DateTimeField)
        # From what the column holds to what the model declares: a widening (or the same
        # capacity) keeps every value.
        return holds is not None and classify_type_change(holds, declared.type) is WIDENING
    return False


def _key_reads(model: Relation, pinned: Relation) -> bool:
    """A model's primary key reads rows as the table identifies them: the table has none
    (Django needs one, so the model names one), the same columns in another order, or a unique
    constraint of exactly those columns."""
    wanted = set(model.primary_key)
    return (
        not pinned.primary_key
        or wanted == set(pinned.primary_key)
        or any(wanted == set(u) for u in pinned.unique)
    )
