"""Command line: argument parsing, progress and exit codes; the work happens in runner/render.

Exit codes: 0 the audit ran and its policies passed; 1 the gate failed (a rule FAILed or
ERRORed, or WARNed with ``--fail-on warn``); 2 bad input (spec, policy, model, data, output
place), printed as one line ``error: <where>: <what>``; 3 an internal error (a bug); 130 and
143 interrupted by Ctrl-C or SIGTERM. ``--debug`` shows the traceback.

Input is checked in the order that loses the least: the spec and its policies (before torch
or any model library is imported), then the output place, then the model and the data.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import traceback
from pathlib import Path

from . import __version__
from .errors import AuditInputError

EXIT_OK, EXIT_POLICY, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143


class Terminated(BaseException):
    """SIGTERM, raised where the process is so that cleanup (the staging folder) runs."""


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    previous = _on_sigterm_raise()
    try:
        return args.command(args)
    except AuditInputError as error:
        _report(args, f"error: {error.where}: {error.what}")
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print("terminated: no report was moved into place", file=sys.stderr)
        return EXIT_TERMINATED
    except Exception as error:  # noqa: BLE001 - the last line of defence: say what, not a traceback
        _report(args, f"error: internal: {type(error).__name__}: {error} (rerun with --debug for the traceback)")
        return EXIT_INTERNAL
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _on_sigterm_raise():
    """Turn SIGTERM into :class:`Terminated` (only possible in the main thread); return the
    handler it replaces, or None."""
    def terminated(signum, frame):
        raise Terminated()

    try:
        return signal.signal(signal.SIGTERM, terminated)
    except ValueError:  # not the main thread (an embedding application): leave signals alone
        return None


def _report(args, line: str) -> None:
    if args.debug:
        traceback.print_exc()
    print(one_line(line), file=sys.stderr)


def one_line(text: str) -> str:
    """``text`` with every character that is not printable escaped (``\\n``, ``\\x1e``,
    ``\\u2028``...): a key or layer name from a hostile file can neither break the one-line
    error into several nor draw on the terminal."""
    return "".join(char if char.isprintable() else ascii(char)[1:-1] for char in text)


def _run(args) -> int:
    loaded, gate, place = _checked_input(args, fail_on=args.fail_on, baseline=args.baseline)
    from .progress import Progress  # the model libraries load only once the input is known good
    from .render import write_reports
    from .runner import run_audit

    progress = Progress(quiet=args.quiet)
    try:
        result = run_audit(loaded, progress, gate=gate)
        written = write_reports(result, place.folder, loaded.spec.output.formats, progress)
    except BaseException:
        place.undo()
        raise
    if not args.quiet:
        for path in written.values():
            print(path, file=sys.stderr)
    return _gate_exit(result.verdict, result.title)


def _gate_exit(verdict, title: str) -> int:
    """Say the verdict (stderr, and the GitHub step summary when set) and return the exit code."""
    from .render import markdown
    from .render.verdict_rows import gate_sentence, tally

    if verdict is None:
        return EXIT_OK
    print(f"verdict: {verdict.status}: {tally(verdict)}. {gate_sentence(verdict)}", file=sys.stderr)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary and not markdown.append_step_summary(verdict, title, summary):
        print(f"warning: {summary}: the step summary is full (1 MiB); the verdict is not in it", file=sys.stderr)
    return EXIT_OK if verdict.passed else EXIT_POLICY


def _checked_input(args, **gate_options):
    """The spec, its gate and the output folder, each checked before the model loads."""
    from .policy import gate_for
    from .render.place import prepare_output_place
    from .spec import load_spec

    loaded = load_spec(args.spec)
    gate = gate_for(loaded, policies=args.policy, **gate_options)
    if args.out:
        place = prepare_output_place(Path(args.out), "--out")
    else:
        where = loaded.error(("output", "dir"), "").where
        place = prepare_output_place(Path(os.path.normpath(loaded.resolve(loaded.spec.output.dir))), where)
    return loaded, gate, place


def _validate(args) -> int:
    loaded, gate, place = _checked_input(args)
    place.undo()  # the folder could be made; validate leaves none behind
    spec = loaded.spec
    rules = sum(len(pack.rules) for pack in gate.packs)
    print(f"ok: {args.spec}: model {spec.model.kind}, probe {spec.probe.source}, "
          f"metrics {', '.join(spec.selected_metrics())}"
          + (f", policies {', '.join(pack.name for pack in gate.packs)} ({rules} rules)" if gate.packs else "")
          + f", output {place.folder}")
    return EXIT_OK


def _layers(args) -> int:
    from .layer_listing import list_layers
    from .render import layer_table
    from .spec import load_spec

    loaded = load_spec(args.spec)
    sys.stdout.write(layer_table.render(list_layers(loaded), args.format))
    return EXIT_OK


def _compare(args) -> int:
    from .compare import compare
    from .policy import evaluate, gate_for, read_audit
    from .render import compare_report as compare_render
    from .render import write_atomic
    from .render.place import check_output_file

    out = check_output_file(Path(args.out), "--out") if args.out else None
    gate = gate_for(None, policies=args.policy, fail_on=args.fail_on, baseline=args.base)
    new = read_audit(Path(args.new))
    comparison = compare(gate.baseline, new, base_path=args.base, new_path=args.new, verdict=evaluate(gate, new))
    text = compare_render.render(comparison, args.format)
    if out is not None:
        write_atomic(out, text.encode("utf-8"))
    else:
        sys.stdout.write(text)
    return _gate_exit(comparison.verdict, comparison.new_title)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="model-audit", description="Efficiency audits of trained neural networks.")
    parser.add_argument("--version", action="version", version=f"model-audit {__version__}")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    run = commands.add_parser("run", help="run an audit: writes audit.json, report.html, report.pdf")
    run.add_argument("spec", help="the audit spec (YAML)")
    run.add_argument("--out", help="output folder (default: output.dir in the spec)")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    run.add_argument("--baseline", metavar="AUDIT.json", help="an earlier audit.json for rules on changes")
    run.set_defaults(command=_run)
    validate = commands.add_parser("validate", help="check a spec, its policies and the output folder without loading the model")
    validate.add_argument("spec", help="the audit spec (YAML)")
    validate.add_argument("--out", help="output folder to check (default: output.dir in the spec)")
    validate.set_defaults(command=_validate)
    layers = commands.add_parser("layers", help="list every layer the spec may select: type, output shape, width, "
                                               "parameters, and the default selection (runs one probe batch)")
    layers.add_argument("spec", help="the audit spec (YAML)")
    layers.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    layers.set_defaults(command=_layers)
    compare = commands.add_parser("compare", help="a regression table of two audit.json files, with policies on the deltas")
    compare.add_argument("base", help="the baseline audit.json")
    compare.add_argument("new", help="the new audit.json")
    compare.add_argument("--format", choices=("text", "markdown", "html"), default="text", help="output format")
    compare.add_argument("--out", help="write to this file (default: standard output)")
    compare.set_defaults(command=_compare)
    for sub in (run, compare):
        sub.add_argument("--fail-on", choices=("fail", "warn"), default="fail",
                         help="what fails the gate (exit 1): a failed rule (default), or a warning too")
    for sub in (run, validate, compare):
        _policy_argument(sub)
    for sub in (run, validate, layers, compare):
        sub.add_argument("--debug", action="store_true", help="show tracebacks")
    return parser


def _policy_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policy", action="append", default=[], metavar="NAME|FILE",
                        help="a policy pack (stock name: default, embedding, strict; or a YAML file); repeatable")
