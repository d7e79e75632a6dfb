"""The API's OpenAPI document as a pinned contract (``contracts/openapi.json``).

A contract kind of :mod:`mirror.contracts.kinds`, next to the columns and shape snapshots:
``billig contracts update`` writes the document the site source gives (``openapi()``), and
``billig contracts check`` runs two checks. *Declared*: the generated document equals the pinned
one (a readable diff by path, such as ``components.schemas.PriceGroup.required``). *Observed*: the
site's app, serving the seeded mirror, answers real requests (``api_exchanges()``: every operation,
its success and error cases, built from the mirror's own rows) exactly as the pinned document
says: a declared status, JSON, a body valid against the declared schema, the declared headers,
and no forbidden key. So a serializer that drops a field fails both, and an endpoint that raises
fails the second; Schemathesis (tests and CLI) explores the same document far more widely.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from mirror.contracts.kinds import CheckResult, ContractContext
from mirror.contracts.shapes import forbidden_paths
from mirror.errors import ContractError, ObservationError
from mirror.sources.json_locator import dump_json, json_path, parse_json
from mirror.sources.site import ApiExchange

OPENAPI_FILE = "openapi.json"


def load_openapi(path: Path) -> dict[str, Any]:
    """A pinned document; malformed JSON or a non-document is a :class:`ContractError`."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ContractError(f"{path}: no pinned OpenAPI document") from None
    return _parse(path, raw)


def _parse(path: Path, raw: bytes) -> dict[str, Any]:
    document = parse_json(path, raw, what="OpenAPI document").data
    if not isinstance(document, dict) or not isinstance(document.get("paths"), dict):
        raise ContractError(f"{path}: not an OpenAPI document (no 'paths' object)")
    if not str(document.get("openapi", "")).startswith("3."):
        raise ContractError(f"{path}: 'openapi' must be a 3.x version")
    return document


def forbidden_properties(document: Mapping[str, Any], forbidden: Iterable[str]) -> list[str]:
    """``components.schemas.<Schema>.<key>`` for every forbidden key a schema declares."""
    banned = frozenset(forbidden)
    schemas = document.get("components", {}).get("schemas", {})
    found: list[str] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for key in node.get("properties", {}) or {}:
                if key in banned:
                    found.append(f"{where}.{key}")
            for sub in node.values():
                walk(sub, where)
        elif isinstance(node, list):
            for item in node:
                walk(item, where)

    for name, schema in sorted(schemas.items()):
        walk(schema, f"components.schemas.{name}")
    return sorted(set(found))


# --------------------------------------------------------------------------- diffs


def _where(level: Any) -> str:
    return json_path(level.path(output_format="list"), root="") or "$"


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def diff_documents(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Lines saying how ``new`` differs from ``old``: ``+`` added, ``-`` removed, ``~`` changed."""
    if old == new:
        return []
    from deepdiff import DeepDiff

    diff = DeepDiff(old, new, ignore_order=True, view="tree", verbose_level=2)
    lines: list[str] = []
    for report, levels in diff.items():
        for level in levels:
            where = _where(level)
            if report in ("dictionary_item_added", "iterable_item_added"):
                lines.append(f"+ {where}: {_short(level.t2)}")
            elif report in ("dictionary_item_removed", "iterable_item_removed"):
                lines.append(f"- {where}: {_short(level.t1)}")
            else:
                lines.append(f"~ {where}: {_short(level.t1)} → {_short(level.t2)}")
    return sorted(lines) or ["the order of a list changed"]


# --------------------------------------------------------------------------- observed


def _operation(document: Mapping[str, Any], exchange: ApiExchange) -> Mapping[str, Any] | None:
    operation = document.get("paths", {}).get(exchange.template, {}).get(exchange.method.lower())
    return operation if isinstance(operation, Mapping) else None


def _resolve(document: Mapping[str, Any], node: Any) -> Any:
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
        target: Any = document
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, Mapping) else {}
        node = target
    return node


def response_problems(
    document: Mapping[str, Any],
    exchange: ApiExchange,
    forbidden: Iterable[str],
    validators: dict[tuple[str, ...], Any] | None = None,
) -> list[str]:
    """Where one real response departs from what the pinned document declares for it.

    ``validators`` keeps the schema validator of each declared response between calls: many
    exchanges answer the same operation and status, and a validator resolves its references
    once.
    """
    from jsonschema import Draft202012Validator

    status, headers, body = exchange.status, exchange.headers, exchange.body
    label = f"{exchange.label} → {status}"
    operation = _operation(document, exchange)
    if operation is None:
        return [f"{label}: {exchange.method} {exchange.template} is not in the document"]
    responses = operation.get("responses", {})
    declared = responses.get(
        str(status), responses.get(f"{str(status)[0]}XX", responses.get("default"))
    )
    if declared is None:
        return [
            f"{label}: status {status} is not declared (declared: {', '.join(sorted(responses))})"
        ]
    declared = _resolve(document, declared)
    problems: list[str] = []
    for name, spec in (declared.get("headers") or {}).items():
        spec = _resolve(document, spec)
        value = headers.get(name.lower())
        if value is None:
            if spec.get("required"):
                problems.append(f"{label}: missing header {name}")
            continue
        allowed = (spec.get("schema") or {}).get("enum")
        if allowed is not None and value not in allowed:
            problems.append(f"{label}: header {name} is {value!r}, declared {allowed}")
    content = declared.get("content") or {}
    if not content:
        return problems
    media = headers.get("content-type", "").split(";")[0].strip()
    if media not in content:
        return [
            *problems,
            f"{label}: content type {media!r} is not declared ({', '.join(content)})",
        ]
    try:
        data = json.loads(body)
    except ValueError:
        return [*problems, f"{label}: body is not JSON"]
    key = (exchange.method, exchange.template, str(status), media)
    validator = (validators or {}).get(key)
    if validator is None:
        schema = {
            **(content[media].get("schema") or {}),
            "components": document.get("components", {}),
        }
        validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        if validators is not None:
            validators[key] = validator
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        where = json_path(error.absolute_path)
        problems.append(f"{label}: {where}: {error.message[:200]}")
    problems += [
        f"{label}: {path}: forbidden key in output (never public)"
        for path in forbidden_paths(data, frozenset(forbidden), "$")
    ]
    return problems


# --------------------------------------------------------------------------- the snapshot kind


class OpenApiSnapshot:
    """``openapi.json``: the site's OpenAPI document, pinned; checked declared and observed.

    A site without an API (its source's ``openapi()`` is None) has no file of this kind.
    """

    name = "openapi"

    def document(self, ctx: ContractContext) -> dict[str, Any] | None:
        site = ctx.site
        document = site.openapi() if site is not None else None
        return None if document is None else dict(document)

    def generate(self, ctx: ContractContext) -> dict[Path, str]:
        document = self.document(ctx)
        if document is None:
            return {}
        exposed = forbidden_properties(document, ctx.forbidden)
        if exposed:
            # The privacy contract cannot be updated away: fix the API instead.
            raise ContractError(f"refusing to pin a forbidden field: {exposed[0]}")
        return {Path(OPENAPI_FILE): dump_json(document)}

    def owned(self, ctx: ContractContext) -> list[Path]:
        return [Path(OPENAPI_FILE)] if (ctx.contracts_dir / OPENAPI_FILE).exists() else []

    def check(self, ctx: ContractContext) -> list[CheckResult]:
        current = self.document(ctx)
        path = ctx.contracts_dir / OPENAPI_FILE
        if current is None and not path.exists():
            return []
        pinned = load_openapi(path)
        return [self._declared(ctx, path, pinned, current), self._observed(ctx, pinned)]

    def _declared(
        self,
        ctx: ContractContext,
        path: Path,
        pinned: Mapping[str, Any],
        current: Mapping[str, Any] | None,
    ) -> CheckResult:
        name = f"the API's OpenAPI document equals {path.name}"
        if current is None:
            return CheckResult(self.name, name, (f"{path.name}: unused (the site has no API)",))
        problems = [
            f"forbidden key declared: {p}" for p in forbidden_properties(current, ctx.forbidden)
        ]
        problems += diff_documents(pinned, current)
        operations = sum(len(v) for v in current.get("paths", {}).values())
        return CheckResult(self.name, name, tuple(problems), detail=f"{operations} operations")

    def _observed(self, ctx: ContractContext, pinned: Mapping[str, Any]) -> CheckResult:
        name = "the API on the seeded mirror answers as the pinned document declares"
        site = ctx.site
        try:
            answered = site.api_exchanges(ctx.database_url, ctx.moment) if site else None
        except ObservationError as exc:
            return CheckResult(self.name, name, (str(exc),))
        if answered is None:
            return CheckResult(self.name, name, detail="not observed: the site runs no app")
        problems: list[str] = []
        validators: dict[tuple[str, ...], Any] = {}
        for exchange in answered:
            found = response_problems(pinned, exchange, ctx.forbidden, validators)
            if exchange.status >= 500 and not found:
                # A declared server error (503) on the seeded mirror is still a failed check,
                # never "answers as declared".
                found = [f"{exchange.label} → {exchange.status}: server error on the seeded mirror"]
            problems += found
        return CheckResult(self.name, name, tuple(problems), detail=f"{len(answered)} requests")

    def describe(self, path: Path, old: str | None, new: str | None) -> list[str]:
        if old is None:
            return ["new document"]
        if new is None:
            return ["removed"]
        before = _parse(path, old.encode("utf-8"))
        after = _parse(path, new.encode("utf-8"))
        return diff_documents(before, after) or ["formatting only"]


def iter_operations(document: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(METHOD, path) of every operation in a document, sorted."""
    methods = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
    for path, item in sorted(document.get("paths", {}).items()):
        for method in methods:
            if method in item:
                yield method.upper(), path


def operations(document: Mapping[str, Any]) -> Sequence[str]:
    return [f"{m} {p}" for m, p in iter_operations(document)]
