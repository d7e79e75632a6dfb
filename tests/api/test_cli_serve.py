"""``billig serve`` as a real server process, and the Schemathesis CLI run against it (the same
command as ``tox -e api``, with few examples), writing a JUnit report."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from mirror.provision.mirror import Mirror

BIN = Path(sys.executable).parent
OPERATIONS = {
    "GET /health",
    "GET /events",
    "GET /events/{event_id}",
    "GET /billig/events",
    "GET /billig/events/{event_id}",
    "GET /billig/events/{event_id}/payment-form",
    "POST /billig/events/{event_id}/payment",
    "GET /payment-errors",
    "GET /tickets",
}


def billig(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mirror.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


def schemathesis_against_serve(
    mirror: Mirror, document: Path, junit: Path, cwd: Path, *more: str
) -> subprocess.CompletedProcess[str]:
    return billig(
        "serve", "--dsn", mirror.full_url, "--port", "0", "--",
        str(BIN / "schemathesis"), "run", str(document), "--url", "$BILLIG_API_URL",
        "--checks", "all", "--max-examples", "10", "--seed", "1",
        "--report", "junit", "--report-junit-path", str(junit), *more,
        cwd=cwd,
    )  # fmt: skip


def junit_summary(path: Path) -> tuple[dict[str, str], set[str]]:
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite is not None
    return dict(suite.attrib), {case.attrib["name"] for case in suite.iter("testcase")}


def test_schemathesis_cli_passes_against_billig_serve_and_writes_junit(
    billig_mirror: Mirror, project_root: Path, tmp_path: Path
) -> None:
    junit = tmp_path / "reports" / "junit-api.xml"
    document = project_root / "contracts" / "openapi.json"
    run = schemathesis_against_serve(billig_mirror, document, junit, tmp_path)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "No issues found" in run.stdout
    attributes, cases = junit_summary(junit)
    assert (attributes["failures"], attributes["errors"]) == ("0", "0")
    assert cases == OPERATIONS | {"Stateful tests"}
    assert str(billig_mirror.url.password) not in run.stdout + run.stderr


def test_schemathesis_cli_fails_when_the_api_breaks_its_document(
    billig_mirror: Mirror, project_root: Path, tmp_path: Path
) -> None:
    document: dict[str, Any] = json.loads((project_root / "contracts" / "openapi.json").read_text())
    # The pinned document now promises a field the API does not send.
    health = document["components"]["schemas"]["Health"]
    health["properties"]["version"] = {"type": "string"}
    health["required"].append("version")
    broken = tmp_path / "openapi.json"
    broken.write_text(json.dumps(document))
    junit = tmp_path / "junit-api.xml"
    run = schemathesis_against_serve(
        billig_mirror, broken, junit, tmp_path, "--include-path", "/health"
    )
    assert run.returncode == 1, run.stdout[-4000:] + run.stderr[-2000:]
    assert "Response violates schema" in run.stdout
    attributes, _ = junit_summary(junit)
    assert attributes["failures"] != "0"
    failed = {
        case.attrib["name"]
        for case in ET.parse(junit).getroot().iter("testcase")
        if case.find("failure") is not None
    }
    assert "GET /health" in failed


def test_serve_refuses_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        run = billig(
            "serve", "--port", str(port), "--dsn", "postgresql://x@127.0.0.1:1/b", cwd=tmp_path
        )
    assert run.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in run.stderr


def test_serve_with_an_unreachable_billig_exits_3_without_the_password(tmp_path: Path) -> None:
    run = billig(
        "serve", "--port", "0", "--dsn", "postgresql://billig:hunter2@127.0.0.1:1/billig",
        "--", "true",
        cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 3, run.stderr
    assert "cannot read Billig events from postgresql+psycopg2://billig:***@127.0.0.1:1/billig" in (
        run.stderr
    )
    assert "hunter2" not in run.stdout + run.stderr


@pytest.mark.parametrize("dsn", ["not a url", "sqlite:///billig.db"])
def test_serve_with_a_dsn_that_is_not_postgresql_is_a_usage_error(dsn: str, tmp_path: Path) -> None:
    run = billig("serve", "--port", "0", "--dsn", dsn, "--", "true", cwd=tmp_path)
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith("billig: error: ")


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_serve_in_the_foreground_answers_and_cleans_up_when_stopped(
    tmp_path: Path, stop: signal.Signals, spawn
) -> None:
    """The default: a fresh seeded mirror and a temporary seeded site database, both removed."""
    proc = spawn(
        [sys.executable, "-m", "mirror.cli", "serve", "--port", "0", "--events", "12"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("serving the API on http://127.0.0.1:"), line
    url = line.split()[4]
    with urllib.request.urlopen(f"{url}/billig/events/1000") as response:
        assert json.load(response)["id"] == 1000
    proc.send_signal(stop)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "stopping the API" in err
    site = next(line for line in err.splitlines() if line.startswith("site:"))
    site_file = Path(site.split("sqlite:///", 1)[1].split(" ", 1)[0])
    assert site_file.name == "site.sqlite3" and not site_file.parent.exists()


# The console entry point in an interpreter where uvicorn cannot be imported, as after a plain
# ``pip install billig-harness`` (the wheel test runs the real thing in a fresh virtualenv).
_WITHOUT_UVICORN = """
import sys
sys.modules["uvicorn"] = None  # import uvicorn now raises ImportError
from mirror.cli import main
main(sys.argv[1:])
"""


def test_serve_without_the_serve_extra_exits_2_naming_it(project_root: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-c", _WITHOUT_UVICORN, "serve", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=project_root,
    )
    assert run.returncode == 2, run.stderr
    assert run.stderr.splitlines() == [
        "billig: error: billig serve needs the serve extra (uvicorn): "
        "pip install 'billig-harness[serve]'"
    ]
    assert run.stdout == ""
