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


def _environ_uses(path: Path) -> list[tuple[int, str]]:
    """(line, kind) of every os.environ / os.getenv use: 'write' for assignment, setdefault, update, pop."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "putenv") \
                and isinstance(node.value, ast.Name) and node.value.id == "os":
            out.append((node.lineno, "use"))
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Subscript) and "environ" in ast.unparse(target.value):
                    out.append((node.lineno, "write"))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in ("setdefault", "update", "pop", "putenv") and "environ" in ast.unparse(node.func.value):
            out.append((node.lineno, "write"))
    return out


def test_environment_is_read_in_settings_only_and_never_written_for_other_code():
    """One settings module reads the environment; the CLI passes values (a child's env mapping), never
    writing os.environ for other code to read back. The package's __init__ only sets library flags
    (offline model hubs, litellm's local cost map) that must precede those libraries' imports."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        relative = str(path.relative_to(PACKAGE))
        for line, kind in _environ_uses(path):
            if relative == "settings.py" and kind == "use":
                continue
            if relative == "__init__.py":
                continue
            offenders.append(f"{relative}:{line} ({kind})")
    assert offenders == []
    settings_writes = [line for line, kind in _environ_uses(PACKAGE / "settings.py") if kind == "write"]
    assert settings_writes == []


def test_cli_run_passes_paths_without_touching_the_environment(tmp_path, monkeypatch):
    import os

    from workforce_assets import cli, settings

    seen = {}

    def fake_run(input_dir, duckdb_path, selection, force=False):
        seen.update(input_dir=input_dir, duckdb_path=duckdb_path)
        return 0

    monkeypatch.setattr(cli, "_run", fake_run)
    before = dict(os.environ)
    (tmp_path / "in").mkdir()
    assert cli.main(["run", "--input-dir", str(tmp_path / "in"), "--duckdb", str(tmp_path / "w.duckdb")]) == 0
    assert dict(os.environ) == before
    assert seen == {"input_dir": (tmp_path / "in").resolve(), "duckdb_path": (tmp_path / "w.duckdb").resolve()}
    child = settings.child_environment(tmp_path / "in", tmp_path / "w.duckdb")
    assert child[settings.ENV_INPUT_DIR] == str((tmp_path / "in").resolve())
    assert child[settings.ENV_DUCKDB_PATH] == str((tmp_path / "w.duckdb").resolve())
