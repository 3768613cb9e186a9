"""Command line: argument parsing, progress and exit codes; the work happens in runner/render.

Exit codes: 0 the audit ran; 1 a policy failed (policies come later); 2 bad input (spec,
model, data), printed as one line ``error: <where>: <what>``; 3 an internal error. ``--debug``
shows the traceback.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

from . import __version__
from .errors import AuditInputError

EXIT_OK, EXIT_POLICY, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.command(args)
    except AuditInputError as error:
        _report(args, f"error: {error.where}: {error.what}")
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - the last line of defence: say what, not a traceback
        _report(args, f"error: internal: {type(error).__name__}: {error} (rerun with --debug for the traceback)")
        return EXIT_INTERNAL


def _report(args, line: str) -> None:
    if args.debug:
        traceback.print_exc()
    print(line, file=sys.stderr)


def _run(args) -> int:
    from .progress import Progress
    from .render import write_reports
    from .runner import run_audit
    from .spec import load_spec

    loaded = load_spec(args.spec)
    progress = Progress(quiet=args.quiet)
    result = run_audit(loaded, progress)
    out_dir = Path(args.out) if args.out else loaded.resolve(loaded.spec.output.dir)
    written = write_reports(result, out_dir, loaded.spec.output.formats, progress)
    if not args.quiet:
        for path in written.values():
            print(path, file=sys.stderr)
    return EXIT_OK


def _validate(args) -> int:
    from .spec import load_spec

    loaded = load_spec(args.spec)
    spec = loaded.spec
    print(f"ok: {args.spec}: model {spec.model.kind}, probe {spec.probe.source}, "
          f"metrics {', '.join(spec.selected_metrics())}")
    return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="model-audit", description="Efficiency audits of trained neural networks.")
    parser.add_argument("--version", action="version", version=f"model-audit {__version__}")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    run = commands.add_parser("run", help="run an audit: writes audit.json, report.html, report.pdf")
    run.add_argument("spec", help="the audit spec (YAML)")
    run.add_argument("--out", help="output folder (default: output.dir in the spec)")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    run.set_defaults(command=_run)
    validate = commands.add_parser("validate", help="check a spec without loading the model")
    validate.add_argument("spec", help="the audit spec (YAML)")
    validate.set_defaults(command=_validate)
    for sub in (run, validate):
        sub.add_argument("--debug", action="store_true", help="show tracebacks")
    return parser
