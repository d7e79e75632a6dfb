"""The documentation as a maintainer meets it: a short README that links to the documentation
site, pages that exist, and no citation of a specification the repository does not hold."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
# Where the project speaks: the package, its documentation and its examples.
PROSE = [README, *sorted(DOCS.rglob("*.md"))]
SOURCES = [
    *sorted((ROOT / "mirror").rglob("*.py")),
    *sorted((ROOT / "examples").rglob("*.py")),
    *PROSE,
]
# "SPEC §3", "(§ 2.1)", "specification, section 4": a citation of a document outside the
# repository (``spec`` alone is a common variable name).
CITATION = re.compile(r"§|\bSPEC\b|\b[Ss]pecification,? section\b")


def test_the_readme_is_at_most_250_lines() -> None:
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 250


@pytest.mark.parametrize("page", PROSE, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_of_a_page_names_a_file_that_exists(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    missing = [
        target for target in targets if "://" not in target and not (page.parent / target).exists()
    ]
    assert missing == []


def test_nothing_cites_a_specification() -> None:
    citing = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in SOURCES
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if CITATION.search(line)
    ]
    assert citing == []
