"""docs/contracts.md's "who can do what" table names, on each line, the tests that prove it
(issue 12). A renamed or deleted test would leave a line unproven without anyone noticing."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NAMED = re.compile(r"`(test_\w+\*?)`")


def _table_rows() -> list[str]:
    text = (ROOT / "docs" / "contracts.md").read_text()
    section = text.split("## Roles and trust\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    return rows[1:]  # without the header


def _contract_tests() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "tests" / "contracts").rglob("test_*.py"):
        found.update(re.findall(r"^def (test_\w+)\(", path.read_text(), re.MULTILINE))
    return found


def test_every_role_line_names_tests_that_exist() -> None:
    rows = _table_rows()
    tests = _contract_tests()
    assert len(rows) >= 10, "the roles table is missing or lost its lines"
    for row in rows:
        role = row.split("|")[1].strip()
        named = NAMED.findall(row)
        assert named, f"the line for {role!r} names no test"
        for name in named:
            if name.endswith("*"):
                assert any(t.startswith(name[:-1]) for t in tests), f"{role}: no {name}"
            else:
                assert name in tests, f"{role}: {name} is not a test in tests/contracts"
