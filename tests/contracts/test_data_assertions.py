"""``data-assertions.json`` is checked by ``billig contracts check`` like the other contract files:
a malformed file, an unknown column or an unsafe expression is exit 2 naming the file and the
entry; an assertion that does not type-check against the schema file fails the check (exit 1)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mirror.cli import main
from mirror.contracts.check import check_contracts
from mirror.contracts.data_assertions import DataAssertionsKind
from mirror.contracts.kinds import ContractContext
from mirror.drift.assertions import ASSERTIONS_FILE
from mirror.errors import ContractError

ROOT = Path(__file__).resolve().parent.parent.parent
COLUMNS = (ROOT / "contracts" / "columns.json").read_text()


def _declare(folder: Path, *checks: str, relation: str = "billig.ticket_group") -> None:
    assertions = [{"relation": relation, "check": check} for check in checks]
    document = {"format_version": 1, "assertions": assertions}
    (folder / ASSERTIONS_FILE).write_text(json.dumps(document, indent=1))


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out + err


def test_sound_assertions_pass_the_check(contract_ctx: ContractContext) -> None:
    _declare(contract_ctx.contracts_dir, "num_sold <= num AND num > 0", "num BETWEEN 0 AND 10000")
    (result,) = check_contracts(contract_ctx, ["assertions"])
    assert result.ok, result.problems
    assert result.detail == "2 assertion(s)"


def test_without_the_file_nothing_is_checked(contract_ctx: ContractContext) -> None:
    assert check_contracts(contract_ctx, ["assertions"]) == []


def test_an_assertion_that_does_not_type_check_fails_naming_the_entry(
    contract_ctx: ContractContext,
) -> None:
    _declare(contract_ctx.contracts_dir, "num > 0", "ticket_group_name > 5", "num > 'many'")
    (result,) = check_contracts(contract_ctx, ["assertions"])
    assert not result.ok
    first, second = result.problems
    assert first.startswith(f"{ASSERTIONS_FILE} $.assertions[1] ('ticket_group_name > 5' on ")
    assert "operator does not exist" in first
    assert second.startswith(f"{ASSERTIONS_FILE} $.assertions[2]")


@pytest.mark.parametrize(
    ("check", "says"),
    [
        ("num_sold <= num; DELETE FROM billig.ticket_group", "one expression expected"),
        ("num > (SELECT count(*) FROM billig.ticket)", "SubLink is not allowed"),
        ("pg_sleep(10) IS NULL", "FuncCall is not allowed"),
        ("num ~ '^1'", "operator ~ is not allowed"),
        ("num OPERATOR(public.=) 1", "operator public.= is not allowed"),
        ("ticket_group_name::integer > 0", "a column's value is cast only to text"),
        ("no_such_column > 0", "no column 'no_such_column' in billig.ticket_group"),
    ],
)
def test_an_unsafe_or_unknown_assertion_is_exit_2_naming_the_file_and_entry(
    capsys: pytest.CaptureFixture[str],
    dsn_mirror: list[str],
    contracts_copy: Path,
    check: str,
    says: str,
) -> None:
    _declare(contracts_copy, "num > 0", check)
    code, output = _run(
        capsys, "contracts", "check", *dsn_mirror, "--contracts", str(contracts_copy)
    )
    assert code == 2, output
    assert f"{ASSERTIONS_FILE}:" in output and "$.assertions[1]" in output, output
    assert says in output and "internal error" not in output


def test_an_assertion_on_a_relation_the_contract_lacks_is_exit_2(
    capsys: pytest.CaptureFixture[str], dsn_mirror: list[str], contracts_copy: Path
) -> None:
    _declare(contracts_copy, "x > 0", relation="billig.nowhere")
    code, output = _run(capsys, "check", *dsn_mirror, "--contracts", str(contracts_copy))
    assert code == 2, output
    assert "billig.nowhere is not in the columns contract" in output


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)
entries = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {
            "relation": st.sampled_from(["billig.ticket_group", "billig.event", "x", "a.b.c", ""])
            | st.text(max_size=30),
            "check": st.text(max_size=60)
            | st.sampled_from(["num > 0", "num_sold <= num", "event_name LIKE 'a%'"]),
        }
    ),
)
documents = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"format_version": st.sampled_from([1, 2, "1", None]), "assertions": st.lists(entries)}
    ),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(document=documents, raw=st.booleans(), text=st.text(max_size=80))
def test_any_file_is_read_or_refused_as_a_contract_error(
    document: Any, raw: bool, text: str
) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "columns.json").write_text(COLUMNS)
        body = text if raw else json.dumps(document)
        (folder / ASSERTIONS_FILE).write_text(body, encoding="utf-8", errors="surrogatepass")
        try:
            DataAssertionsKind().validate(folder)
        except ContractError as exc:
            assert ASSERTIONS_FILE in str(exc)
