"""The ``moatsim`` command: a thin layer over :mod:`moatsim.experiments`.

    moatsim run SCENARIO [--seed N] [--months N] [--set path.to.key=value ...] [--out DIR]
                [--force]
    moatsim patterns SCENARIO [--replicates R] [--months N] [--set ...] [--against VARIANTS]
                [--workers W] [--out DIR] [--force]
    moatsim robustness SCENARIO [--replicates R] [--months N] [--parameters GLOB ...]
                [--workers W] [--out DIR] [--force]
    moatsim compare SCENARIO... [--replicates R] [--months N] [--workers W] [--out DIR]
                [--force]
    moatsim validate SCENARIO...
    moatsim sweep EXPERIMENT [--workers W] [--out DIR] [--scheduler tcp://HOST:PORT]
                [--resume | --force]
    moatsim calibrate CALIBRATION [--workers W] [--out DIR] [--scheduler tcp://HOST:PORT]
                [--resume | --force] [--scenario-out FILE]
    moatsim report DIR
    moatsim list [--dir DIR]
    moatsim docs [--check] [--out FILE]
    moatsim viz [SCENARIO] [--port P] [--host H]

Bad input (a scenario file, a flag, a value) gets one line on stderr naming the file, the
line and the key path, exit code 2, no traceback, and nothing written. So does an ``--out``
folder that holds anything but an earlier output of the same command (checked before any
simulation starts; ``--force`` moves such a folder aside, never deletes it): see
:mod:`moatsim.experiments.outfolder`.

Start-up: this module imports only the standard library, so ``moatsim --help`` answers
before pydantic, pandas or Mesa are loaded; each command imports what it uses (``validate``
the loader and the schema, ``run`` the model …). ``benchmarks/startup.py`` measures it.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn


RUNS_DIR = Path("runs")
SCENARIO_HELP = ("scenario YAML file, or a scenario's name (baseline: ./scenarios/baseline.yaml "
                 "if there is one, else the bundled one; see moatsim list)")
EXIT_USAGE = 2
EXIT_BROKEN_PIPE = 141
"""128 + SIGPIPE, what a shell reports for a command whose reader closed the pipe."""


class UsageError(Exception):
    """Bad command-line input: printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (argparse prints the usage block and exits otherwise)."""

    def error(self, message: str) -> NoReturn:
        # main() puts "moatsim: error: " in front; the command's own help is named at the end
        raise UsageError(f"{message} (see {self.prog} --help)")


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number ≥ 0, got {value}")
    return value


def _positive_int(text: str) -> int:
    value = _non_negative_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number ≥ 1, got {value}")
    return value


def _named(kind: str) -> Callable[[str], Path]:
    """An argument type for an input file given as a path or by name (``baseline``): the
    file :func:`moatsim.library.find` picks; a name matching none stays as given, for the
    loader to report with the bundled names."""
    def find(text: str) -> Path:
        from moatsim.library import find as find_file

        return find_file(kind, text)

    find.__name__ = kind  # argparse names the type in its messages
    return find


def _port(text: str) -> int:
    value = _non_negative_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 0–65535, got {value}")
    return value


def _variants(text: str) -> list[str]:
    from moatsim.experiments.patterns import parse_against

    try:
        return parse_against(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _scheduler_address(text: str) -> str:
    if not re.fullmatch(r"(tcp|tls|ws|wss|ucx|inproc)://[^\s/]+(:\d+)?/?", text):
        raise argparse.ArgumentTypeError(f"expected a scheduler address such as "
                                         f"tcp://127.0.0.1:8786, got {text!r}")
    return text


FORCE_HELP = ("if --out holds anything but an earlier output of this command, move it aside "
              "to DIR.old-<date>-<time> (nothing is deleted)")


class _Version(argparse.Action):
    """``--version``: the installed distribution's version, looked up only when asked (so
    ``--help`` does not import importlib.metadata)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS,
                         help="print moatsim's version and exit")

    def __call__(self, parser, namespace, values, option_string=None) -> NoReturn:
        from moatsim import __version__

        print(f"moatsim {__version__}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="moatsim", description="Strategy simulation of the AI industry.",
                     epilog="Exit codes: 0 done; 1 a sweep or calibration stopped part-way, or "
                     "docs --check found the document stale; 2 bad input (one line on "
                     "stderr, nothing written); 130 interrupted (Ctrl+C); 141 the output's "
                     "reader closed the pipe.")
    parser.add_argument("--version", action=_Version)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser,
                                     help="what to do (moatsim COMMAND --help for its options)")

    run = commands.add_parser("run", help="run one scenario and write its outputs")
    run.add_argument("scenario", type=_named("scenarios"), help=SCENARIO_HELP)
    run.add_argument("--seed", type=_non_negative_int, default=1, help="random seed (default 1)")
    run.add_argument("--months", type=_non_negative_int, help="months to simulate")
    run.add_argument("--set", dest="assignments", action="append", default=[],
                     metavar="PATH=VALUE", help="override a parameter, e.g. "
                     "first_mover.switching_cost_utils=3 or firms.openai.cash_musd=500")
    run.add_argument("--out", type=Path, help="output folder (default runs/<scenario>-seed<N>)")
    run.add_argument("--force", action="store_true", help=FORCE_HELP)
    run.add_argument("--format", choices=("csv", "parquet"), default="csv", dest="table_format",
                     help="the tables' file format (default csv; parquet keeps the types)")
    run.add_argument("--quiet", action="store_true", help="print nothing but errors")

    patterns = commands.add_parser("patterns", help="check the dated patterns P1–P7 and the "
                                   "history targets over replicates, against null models")
    patterns.add_argument("scenario", type=_named("scenarios"), help=SCENARIO_HELP)
    patterns.add_argument("--replicates", type=_positive_int, default=30,
                          help="replicates (seeds 1…R, default 30)")
    patterns.add_argument("--months", type=_non_negative_int, help="months to simulate")
    patterns.add_argument("--set", dest="assignments", action="append", default=[],
                          metavar="PATH=VALUE", help="override a parameter")
    patterns.add_argument("--workers", type=_positive_int,
                          help="processes (default: all cores)")
    patterns.add_argument("--against", type=_variants, default=[], metavar="VARIANTS",
                          help="also run null and rival models on the same seeds, comma-"
                          "separated: null (random choice), no_diffusion, no_brand, "
                          "equal_funding, no_absorption, or all")
    patterns.add_argument("--out", type=Path,
                          help="also write patterns.csv and replicates.csv to this folder")
    patterns.add_argument("--force", action="store_true", help=FORCE_HELP)

    robust = commands.add_parser("robustness", help="×0.5 and ×2 of every assumed parameter, "
                                 "one at a time: which patterns and history targets survive")
    robust.add_argument("scenario", type=_named("scenarios"), help=SCENARIO_HELP)
    robust.add_argument("--replicates", type=_positive_int, default=10,
                        help="replicates per change (seeds 1…R, default 10)")
    robust.add_argument("--months", type=_non_negative_int, help="months to simulate")
    robust.add_argument("--parameters", nargs="+", metavar="GLOB",
                        help="only these parameters, e.g. 'first_mover.*' 'firms.openai.*'")
    robust.add_argument("--workers", type=_positive_int, help="processes (default: all cores)")
    robust.add_argument("--out", type=Path,
                        help="output folder (default runs/robustness-<scenario>)")
    robust.add_argument("--force", action="store_true", help=FORCE_HELP)

    compare = commands.add_parser("compare", help="run scenarios over the same seeds and "
                                  "compare their outcomes")
    compare.add_argument("scenarios", type=_named("scenarios"), nargs="+",
                         help="scenario YAML files or names; the first is the reference")
    compare.add_argument("--replicates", type=_positive_int, default=20,
                         help="replicates per scenario (seeds 1…R, default 20)")
    compare.add_argument("--months", type=_positive_int, help="months to simulate")
    compare.add_argument("--workers", type=_positive_int, help="processes (default: all cores)")
    compare.add_argument("--out", type=Path, help="output folder (default runs/compare-<first>)")
    compare.add_argument("--force", action="store_true", help=FORCE_HELP)

    sweep = commands.add_parser("sweep", help="run a parameter sweep (experiments/*.yaml) "
                                "into Parquet files")
    sweep.add_argument("experiment", type=_named("experiments"),
                       help="experiment YAML file, or a bundled experiment's name (funding)")
    sweep.add_argument("--workers", type=_positive_int,
                       help="local processes (default: all cores); with --scheduler, the "
                       "most runs in flight")
    sweep.add_argument("--out", type=Path, help="output folder (default runs/sweep-<name>)")
    sweep.add_argument("--scheduler", type=_scheduler_address, metavar="ADDRESS",
                       help="run on a Dask cluster, e.g. tcp://127.0.0.1:8786")
    sweep.add_argument("--resume", action="store_true",
                       help="continue a sweep in --out, skipping the runs it finished")
    sweep.add_argument("--force", action="store_true",
                       help="if --out holds another sweep or anything else, move it aside to "
                       "DIR.old-<date>-<time> and start afresh (nothing is deleted)")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")

    calibrate = commands.add_parser(
        "calibrate", help="fit assumed parameters to 2023-2024 targets (calibrations/*.yaml)")
    calibrate.add_argument("calibration", type=_named("calibrations"),
                           help="calibration YAML file, or a bundled calibration's name "
                           "(baseline)")
    calibrate.add_argument("--out", type=Path,
                           help="output folder (default runs/calibrate-<name>)")
    calibrate.add_argument("--scenario-out", type=Path, metavar="FILE",
                           help="also write the calibrated scenario here (only over a file "
                           "moatsim calibrate wrote), e.g. scenarios/baseline_calibrated.yaml")
    calibrate.add_argument("--workers", type=_positive_int,
                           help="local processes (default: all cores); with --scheduler, the "
                           "most runs in flight")
    calibrate.add_argument("--scheduler", type=_scheduler_address, metavar="ADDRESS",
                           help="run on a Dask cluster, e.g. tcp://127.0.0.1:8786")
    calibrate.add_argument("--resume", action="store_true",
                           help="continue a calibration in --out, reading the runs it finished")
    calibrate.add_argument("--force", action="store_true",
                           help="if --out holds anything else, move it aside to "
                           "DIR.old-<date>-<time> and start afresh (nothing is deleted)")
    calibrate.add_argument("--quiet", action="store_true", help="no progress bar")

    report = commands.add_parser("report", help="write report.html and report.md for a sweep")
    report.add_argument("folder", type=Path, help="a sweep's output folder")

    validate = commands.add_parser("validate", help="check scenario files")
    validate.add_argument("scenarios", type=_named("scenarios"), nargs="+", help=SCENARIO_HELP)

    listing = commands.add_parser("list", help="list scenarios with their descriptions")
    listing.add_argument("--dir", type=Path, help="list this folder's scenario files only "
                         "(default: the bundled scenarios, then ./scenarios/ if there is one)")

    docs = commands.add_parser("docs", help="write docs/parameters.md from the schema")
    docs.add_argument("--check", action="store_true", help="fail if the file is stale")
    docs.add_argument("--out", type=Path, metavar="FILE",
                      help="write here (default: docs/parameters.md of the checkout moatsim "
                      "runs from; required when moatsim is installed from a wheel)")

    viz = commands.add_parser("viz", help="watch a run in the browser (Mesa's SolaraViz page)")
    viz.add_argument("scenario", type=_named("scenarios"), nargs="?",
                     help="scenario YAML file or name the page opens with (default: the "
                     "baseline)")
    viz.add_argument("--port", type=_port, default=8765,
                     help="port to serve on (default 8765; 0 = any free port)")
    viz.add_argument("--host", default="127.0.0.1",
                     help="address to listen on (default 127.0.0.1: this machine only)")
    return parser


def _usage_errors() -> tuple[type[BaseException], ...]:
    """The exceptions told as one line with exit code 2: :class:`UsageError`, and
    :class:`~moatsim.loading.ScenarioError` and :class:`~moatsim.experiments.outfolder.
    OutFolderError` if their modules are loaded (if not, nothing raised them); looked up
    here so that ``moatsim --help`` does not import pydantic to name them."""
    kinds: list[type[BaseException]] = [UsageError]
    for module, name in (("moatsim.loading", "ScenarioError"),
                         ("moatsim.experiments.outfolder", "OutFolderError")):
        loaded = sys.modules.get(module)
        if loaded is not None:
            kinds.append(getattr(loaded, name))
    return tuple(kinds)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; its exit code: 0 done, 1 a stopped sweep or a stale document, 2 bad
    input (one line on stderr), 130 Ctrl+C, 141 the reader of our output went away."""
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except BrokenPipeError:  # `moatsim list | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except Exception as exc:
        if not isinstance(exc, _usage_errors()):
            raise
        print(f"moatsim: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("moatsim: interrupted; no output was written", file=sys.stderr)
        return 130


# ---------------------------------------------------------------- commands


def cmd_run(args: argparse.Namespace) -> int:
    from moatsim.experiments.outfolder import prepare_out
    from moatsim.loading import load_scenario, parse_assignments

    overrides = parse_assignments(args.assignments, file=f"{args.scenario} (from --set)")
    if args.months is not None:
        overrides["months"] = args.months
    config = load_scenario(args.scenario, overrides)  # all validation before any output
    out = args.out or RUNS_DIR / f"{config.name}-seed{args.seed}"
    prepare_out(out, "run", [args.scenario], force=args.force)
    # the simulation and its figures (Mesa, pandas, matplotlib) load only for good input
    from moatsim.experiments.outputs import write_run
    from moatsim.experiments.run import run_scenario
    from moatsim.experiments.tables import events_table, summary_table, top_events

    progress = _progress(config.months, quiet=args.quiet)
    result = run_scenario(config, seed=args.seed, on_month=lambda month: progress.update(1))
    progress.close()
    write_run(result, out, force=args.force, table_format=args.table_format)
    if not args.quiet:
        print(summary_table(result))
        print()
        print(events_table(top_events(result.events, 10)))
        kind = args.table_format
        print(f"\noutputs: {out}/ (model.{kind}, firms.{kind}, segments.{kind}, events.{kind}, "
              f"ledger.{kind}, summary.json, figures/)")
    return 0


def _progress(total: int, *, quiet: bool, unit: str = "month"):
    from tqdm import tqdm

    # shown only when the work lasts more than a second
    return tqdm(total=total, unit=unit, delay=1.0, disable=quiet, file=sys.stderr,
                leave=False)


def cmd_patterns(args: argparse.Namespace) -> int:
    from moatsim.experiments.outfolder import prepare_out, write_atomically
    from moatsim.experiments.patterns import format_table, replicate_validation, validation_table
    from moatsim.loading import load_scenario, parse_assignments

    overrides = parse_assignments(args.assignments, file=f"{args.scenario} (from --set)")
    if args.months is not None:
        overrides["months"] = args.months
    config = load_scenario(args.scenario, overrides)
    if args.out is not None:
        prepare_out(args.out, "patterns", [args.scenario], force=args.force)
    progress = _progress(args.replicates * (1 + len(args.against)), quiet=False, unit="run")
    runs = replicate_validation(args.scenario, replicates=args.replicates, months=args.months,
                                overrides=overrides, against=args.against,
                                workers=args.workers, on_done=lambda: progress.update(1))
    progress.close()
    table = validation_table(runs)
    print(format_table(table, config.name))
    if args.out is not None:
        def fill(folder: Path) -> None:
            table.to_csv(folder / "patterns.csv", index=False)
            runs.to_csv(folder / "replicates.csv", index=False)

        write_atomically(args.out, fill, command="patterns", force=args.force)
        print(f"\noutputs: {args.out}/ (patterns.csv, replicates.csv)")
    return 0


def cmd_robustness(args: argparse.Namespace) -> int:
    from moatsim.experiments.outfolder import prepare_out, write_atomically
    from moatsim.experiments.robustness import plan, robustness, write_robustness
    from moatsim.loading import load_scenario

    config = load_scenario(args.scenario)
    out = args.out or RUNS_DIR / f"robustness-{config.name}"
    prepare_out(out, "robustness", [args.scenario], force=args.force)
    changes = plan(args.scenario, parameters=args.parameters)
    if not changes.changes:
        raise UsageError(f"--parameters {' '.join(args.parameters or [])}: matches no assumed "
                         f"parameter of {args.scenario} that can be changed")
    progress = _progress(len(changes.arms) * args.replicates, quiet=False, unit="run")
    result = robustness(args.scenario, changes, replicates=args.replicates, months=args.months,
                        workers=args.workers, on_done=lambda: progress.update(1))
    progress.close()
    fragile = result.fragile()
    print(f"robustness of {config.name}: {result.table['parameter'].nunique()} assumed "
          f"parameters at ×0.5 and ×2, {args.replicates} replicates each")
    if fragile.empty:
        print("no change breaks a pattern or history target that holds in the scenario")
    for row in fragile.itertuples():
        print(f"fragile: {row.parameter} ({row.changes}) breaks {row.checks}")
    write_atomically(out, lambda folder: write_robustness(result, folder, config.name),
                     command="robustness", force=args.force)
    print(f"\noutputs: {out}/ (robustness.csv, robustness.md, skipped.csv, replicates.csv, "
          "figures/robustness.png)")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from moatsim.experiments.compare import compare
    from moatsim.experiments.compare_outputs import write_comparison
    from moatsim.experiments.outfolder import prepare_out
    from moatsim.loading import load_scenario

    overrides = {} if args.months is None else {"months": args.months}
    names = [load_scenario(path, overrides).name for path in args.scenarios]  # validate all
    if len(set(names)) != len(names):
        raise UsageError("compare: two scenario files have the same name; give each its own")
    out = args.out or RUNS_DIR / f"compare-{names[0]}"
    prepare_out(out, "compare", args.scenarios, force=args.force)
    progress = _progress(len(names) * args.replicates, quiet=False, unit="run")
    result = compare(args.scenarios, replicates=args.replicates, months=args.months,
                     workers=args.workers, on_done=lambda: progress.update(1))
    progress.close()
    write_comparison(result, out, force=args.force)
    print(_comparison_summary(result))
    print(f"\noutputs: {out}/ (comparison.csv, comparison.md, runs.csv, series.csv, figures/)")
    return 0


def _comparison_summary(result) -> str:
    table = result.table
    keys = ("first_mover_share", "open_share", "quality_gap", "app_layer_margin_share")
    header = f"{'scenario':<28}" + "".join(f"{k[:22]:>24}" for k in keys)
    lines = [header]
    for scenario in result.scenarios:
        cells = []
        for key in keys:
            row = table[(table["scenario"] == scenario) & (table["metric"] == key)].iloc[0]
            mark = " *" if row["significant"] else "  "
            cells.append(f"{row['mean']:>12.3f} ± {row['std']:<6.3f}{mark}")
        lines.append(f"{scenario:<28}" + "".join(f"{c:>24}" for c in cells))
    lines.append(f"(* differs from {result.scenarios[0]} beyond replicate noise)")
    return "\n".join(lines)


def _resumable(command: str, file: Path, out: Path, start: Callable[[], Any]) -> Any:
    """``start()``'s summary, or the exit code of a run that stopped part-way (1 when the
    pool or cluster failed, 130 on Ctrl-C; finished runs are kept for ``--resume``); a folder
    or scheduler that cannot be used is a one-line usage error."""
    from moatsim.experiments.sweep import SweepAborted, SweepError

    try:
        return start()
    except SweepAborted as exc:
        print(f"moatsim: error: {exc}", file=sys.stderr)
        return 1
    except SweepError as exc:
        raise UsageError(str(exc)) from None
    except KeyboardInterrupt:
        print(f"moatsim: interrupted; finished runs are saved: continue with moatsim {command} "
              f"{file} --out {out} --resume", file=sys.stderr)
        return 130


def cmd_sweep(args: argparse.Namespace) -> int:
    from moatsim.experiments.design import load_experiment
    from moatsim.experiments.sweep import describe_plan, run_sweep

    loaded = load_experiment(args.experiment)  # all validation before any output
    out = args.out or RUNS_DIR / f"sweep-{loaded.name}"
    if not args.quiet:
        print(describe_plan(loaded))
    summary = _resumable("sweep", args.experiment, out, lambda: run_sweep(
        loaded, out, workers=args.workers, scheduler=args.scheduler, resume=args.resume,
        force=args.force, progress=not args.quiet))
    if isinstance(summary, int):
        return summary
    print(summary.text())
    print(f"outputs: {out}/ (results/, failures/, manifest.json); report: moatsim report {out}")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    from moatsim.experiments.calibration import describe_plan, load_calibration, run_calibration
    from moatsim.experiments.calibration_outputs import (
        CalibrationOutputError,
        check_scenario_out,
        write_calibrated_scenario,
        write_calibration_report,
    )

    loaded = load_calibration(args.calibration)  # all validation before any output
    out = args.out or RUNS_DIR / f"calibrate-{loaded.name}"
    try:
        if args.scenario_out is not None:
            check_scenario_out(args.scenario_out)
    except CalibrationOutputError as exc:
        raise UsageError(str(exc)) from None
    if not args.quiet:
        print(describe_plan(loaded))
    summary = _resumable("calibrate", args.calibration, out, lambda: run_calibration(
        loaded, out, workers=args.workers, scheduler=args.scheduler, resume=args.resume,
        force=args.force, progress=not args.quiet))
    if isinstance(summary, int):
        return summary
    files = write_calibration_report(summary.out, loaded, summary.points)
    files.append(write_calibrated_scenario(loaded, summary.points, summary.out /
                                           "calibrated.yaml"))
    if args.scenario_out is not None:
        files.append(write_calibrated_scenario(loaded, summary.points, args.scenario_out))
    print(summary.text())
    print("wrote " + ", ".join(str(f) for f in files))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from moatsim.experiments.report import ReportError, write_report

    try:
        files = write_report(args.folder)
    except ReportError as exc:
        raise UsageError(str(exc)) from None
    print(f"wrote {files.html} and {files.markdown} ({len(files.figures)} figures in "
          f"{files.html.parent / 'figures'}/)")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """``ok`` and a summary per good file, one error line per bad one (exit 2 if any)."""
    from moatsim.loading import ScenarioError, load_scenario

    broken = 0
    for path in args.scenarios:
        try:
            config = load_scenario(path)
        except ScenarioError as exc:
            print(f"moatsim: error: {exc}", file=sys.stderr)
            broken += 1
            continue
        print(f"ok  {path}  ({config.name}: {len(config.firms)} firms, "
              f"{len(config.segments)} segments, {config.months} months)")
    return EXIT_USAGE if broken else 0


def cmd_list(args: argparse.Namespace) -> int:
    """Every scenario that loads, with its description; then one error line per file that
    does not (exit 2 if any), so one broken file hides none of the others. ``--dir``: that
    folder's files, one per line; otherwise the bundled scenarios, then the user's
    ``./scenarios/`` (whose names win when run by name), each under a heading."""
    from moatsim import library
    from moatsim.loading import ScenarioError, load_scenario

    if args.dir is not None:
        groups = {None: sorted(args.dir.glob("*.yaml"))}
        if not groups[None]:
            raise UsageError(f"--dir {args.dir}: no scenario files (*.yaml)")
    else:
        groups = {f"bundled with moatsim ({library.folder('scenarios')}):":
                  list(library.bundled("scenarios").values())}
        mine = library.user_folder("scenarios")
        if mine is not None:
            groups[f"yours, in ./{mine}/ (used first when a name is in both):"] = list(
                library.yaml_files(mine).values())
    indent = "" if args.dir is not None else "  "
    width = max(len(f.stem) for files in groups.values() for f in files) if any(
        groups.values()) else 0
    broken: list[ScenarioError] = []
    for heading, files in groups.items():
        if heading is not None:
            print(heading)
        for path in files:
            try:
                config = load_scenario(path)
            except ScenarioError as exc:
                broken.append(exc)
                continue
            print(f"{indent}{path.stem:<{width}}  {config.description}")
    for exc in broken:
        print(f"moatsim: error: {exc}", file=sys.stderr)
    return EXIT_USAGE if broken else 0


def cmd_docs(args: argparse.Namespace) -> int:
    from moatsim import paramdoc

    path = args.out if args.out is not None else paramdoc.doc_path()
    if path is None:
        raise UsageError("docs: moatsim runs from an installed package, not a checkout, so "
                         "there is no docs/ folder to write; give --out FILE")
    if args.check:
        if not paramdoc.is_current(path):
            print(f"moatsim: {path} is stale: run `moatsim docs`", file=sys.stderr)
            return 1
        print(f"{path} is current")
        return 0
    if not paramdoc.is_ours(path):
        raise UsageError(f"--out {path}: exists and is not a parameters document moatsim "
                         "wrote; choose a new file")
    print(f"wrote {paramdoc.write(path)}")
    return 0


def cmd_viz(args: argparse.Namespace) -> int:
    from moatsim.loading import load_scenario
    from moatsim.viz import server

    if args.scenario is not None:
        load_scenario(args.scenario)  # a bad file: one line, exit 2, and no server
    problem = server.port_problem(args.host, args.port)
    if problem is not None:
        raise UsageError(problem)
    return server.serve(host=args.host, port=args.port, scenario=args.scenario)


COMMANDS = {"run": cmd_run, "patterns": cmd_patterns, "robustness": cmd_robustness,
            "compare": cmd_compare,
            "sweep": cmd_sweep, "calibrate": cmd_calibrate, "report": cmd_report,
            "validate": cmd_validate,
            "list": cmd_list, "docs": cmd_docs, "viz": cmd_viz}

if __name__ == "__main__":
    sys.exit(main())
