"""`workforce-assets`: generate the demo world, run the graph on a directory, arrange the real data, open the UI."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

from workforce_assets import settings


def _duckdb_path(args: argparse.Namespace) -> Path:
    """--duckdb when given, else the configured warehouse (passed on explicitly, never through the environment)."""
    return Path(args.duckdb).resolve() if getattr(args, "duckdb", None) else settings.duckdb_path()


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def _run(input_dir: Path, duckdb_path: Path, selection: str | None, force: bool = False) -> int:
    from workforce_assets.pipeline.runner import ensure_instance, materialize

    instance = ensure_instance()
    print(f"input: {input_dir}\nwarehouse: {duckdb_path}\ndagster instance: {settings.dagster_home()}")
    signal.signal(signal.SIGTERM, _interrupt)  # SIGTERM stops a run as Ctrl-C does (run canceled, slots freed)
    try:
        report = materialize(input_dir, selection=selection, duckdb_path=duckdb_path, instance=instance,
                             force=force)
    except KeyboardInterrupt:
        print("stopped: the current run is marked canceled; rerun the same command to continue", file=sys.stderr)
        return 130
    ok = report.success
    print(f"{len(report.runs)} runs, {len(report.failed)} failed, {report.skipped} up-to-date asset runs skipped"
          + ("" if ok else f": {report.failed}"))
    return 0 if ok else 1


def _demo_config(args: argparse.Namespace):
    from dataclasses import replace

    from workforce_assets.demo import DemoConfig

    config = DemoConfig.small() if args.small else DemoConfig()
    return replace(config, seed=args.seed) if args.seed is not None else config


def cmd_demo(args: argparse.Namespace) -> int:
    from workforce_assets.demo import generate_demo_world

    out = Path(args.out) if args.out else settings.default_demo_dir()
    summary = generate_demo_world(out, _demo_config(args))
    print(f"generated SIMULATED demo world in {out}: {summary}")
    return _run(out.resolve(), _duckdb_path(args), args.select, args.force)


def cmd_run(args: argparse.Namespace) -> int:
    input_dir = Path(args.input_dir)
    if not input_dir.is_dir():
        print(f"error: input directory {input_dir} does not exist", file=sys.stderr)
        return 2
    return _run(input_dir.resolve(), _duckdb_path(args), args.select, args.force)


def cmd_generate_demo(args: argparse.Namespace) -> int:
    from workforce_assets.demo import generate_demo_world

    print(generate_demo_world(Path(args.out), _demo_config(args)))
    return 0


def cmd_arrange_shared(args: argparse.Namespace) -> int:
    from workforce_assets.ingestion.arrange import arrange_shared_data

    written = arrange_shared_data(Path(args.shared), Path(args.out))
    for path in written:
        print(path)
    return 0


def serve_reports(folder: Path, url: str) -> subprocess.Popen:
    """A static file server for the reports folder on 127.0.0.1 (Python's http.server), in its own session so
    it outlives the exec of the UI; the report links on asset pages point at it."""
    from urllib.parse import urlparse

    folder.mkdir(parents=True, exist_ok=True)
    port = urlparse(url).port
    return subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                             "--directory", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def _serve_reports(duckdb_path: Path) -> None:
    url = settings.reports_url()
    server = serve_reports(settings.reports_dir(default_beside=duckdb_path), url)
    print(f"reports: {url}/ (pid {server.pid}; the report links on asset pages open there)")


def cmd_ui(args: argparse.Namespace) -> int:
    duckdb_path = _duckdb_path(args)
    environment = settings.child_environment(Path(args.input_dir) if args.input_dir else settings.input_dir(),
                                             duckdb_path)
    from workforce_assets.pipeline.runner import ensure_instance

    ensure_instance()
    _serve_reports(duckdb_path)
    # the executables of this command's own environment: the UI starts from any shell, activated or not
    own_bin = Path(sys.executable).parent
    if (settings.REPO_ROOT / "pyproject.toml").exists() and (own_bin / "dg").exists():
        command = [str(own_bin / "dg"), "dev", "-h", args.host, "-p", str(args.port)]
        os.chdir(settings.REPO_ROOT)  # dg finds the project by its pyproject.toml
    else:  # an installed (non-editable) package: no project folder for dg
        command = [str(own_bin / "dagster"), "dev", "-m", "workforce_assets.definitions", "-h", args.host, "-p", str(args.port)]
    print(f"DAGSTER_HOME={settings.dagster_home()}", " ".join(command))
    os.execve(command[0], command, environment)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="workforce-assets", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="generate the simulated demo world, then materialize the whole graph on it")
    demo.add_argument("--out", help="where to write the demo world (default data/demo_world)")
    demo.add_argument("--small", action="store_true", help="a small world (seconds), for a quick look")
    demo.add_argument("--seed", type=int)
    demo.add_argument("--select", help="Dagster asset selection (default: the whole graph)")
    demo.add_argument("--duckdb", help="DuckDB file (default $WORKFORCE_DUCKDB_PATH or data/warehouse.duckdb)")
    demo.add_argument("--force", action="store_true", help="recompute assets that are up to date")
    demo.set_defaults(func=cmd_demo)

    run = sub.add_parser("run", help="register the batches of an input directory and materialize the selection for each")
    run.add_argument("--input-dir", required=True)
    run.add_argument("--select", help="Dagster asset selection, e.g. 'group:labor' or 'key:headcount/company_posteriors+'")
    run.add_argument("--duckdb", help="DuckDB file (default $WORKFORCE_DUCKDB_PATH or data/warehouse.duckdb)")
    run.add_argument("--force", action="store_true",
                     help="recompute assets that are up to date (same code version and parent data versions)")
    run.set_defaults(func=cmd_run)

    gen = sub.add_parser("generate-demo", help="only write the simulated demo world")
    gen.add_argument("--out", required=True)
    gen.add_argument("--small", action="store_true")
    gen.add_argument("--seed", type=int)
    gen.set_defaults(func=cmd_generate_demo)

    arrange = sub.add_parser("arrange-shared", help="lay the real public data out as an input directory (links, no copies)")
    arrange.add_argument("--shared", default=str(settings.REPO_ROOT.parent / "shared" / "data"))
    arrange.add_argument("--out", required=True)
    arrange.set_defaults(func=cmd_arrange_shared)

    ui = sub.add_parser("ui", help="start the Dagster UI (dg dev) on the persistent instance, sensors stopped")
    ui.add_argument("--input-dir")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(func=cmd_ui)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
