"""The pure core never imports Dagster; only pipeline/, cli.py and definitions.py do."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "workforce_assets"
SHELL = {"pipeline", "cli.py", "definitions.py"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_core_has_no_dagster_imports():
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if path.relative_to(PACKAGE).parts[0] not in SHELL and {"dagster", "dagster_duckdb"} & _imports(path)
    ]
    assert offenders == []


def test_shell_really_is_where_dagster_lives():
    assert "dagster" in _imports(PACKAGE / "pipeline" / "definitions.py")
