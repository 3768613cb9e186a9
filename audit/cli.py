"""Command line: argument parsing, progress and exit codes; the work happens in runner/render.

Exit codes: 0 the audit ran and its policies passed; 1 the gate failed (a rule FAILed or
ERRORed, or WARNed with ``--fail-on warn``); 2 bad input (spec, policy, model, data), printed as
one line ``error: <where>: <what>``; 3 an internal error. ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import os
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
    from .policy import gate_for
    from .progress import Progress
    from .render import write_reports
    from .runner import run_audit
    from .spec import load_spec

    loaded = load_spec(args.spec)
    gate = gate_for(loaded, policies=args.policy, fail_on=args.fail_on, baseline=args.baseline)
    progress = Progress(quiet=args.quiet)
    result = run_audit(loaded, progress, gate=gate)
    out_dir = Path(args.out) if args.out else loaded.resolve(loaded.spec.output.dir)
    written = write_reports(result, out_dir, loaded.spec.output.formats, progress)
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


def _validate(args) -> int:
    from .policy import gate_for
    from .spec import load_spec

    loaded = load_spec(args.spec)
    spec = loaded.spec
    gate = gate_for(loaded, policies=args.policy)
    rules = sum(len(pack.rules) for pack in gate.packs)
    print(f"ok: {args.spec}: model {spec.model.kind}, probe {spec.probe.source}, "
          f"metrics {', '.join(spec.selected_metrics())}"
          + (f", policies {', '.join(pack.name for pack in gate.packs)} ({rules} rules)" if gate.packs else ""))
    return EXIT_OK


def _compare(args) -> int:
    from .compare import compare
    from .policy import evaluate, gate_for, read_audit
    from .render import compare as compare_render
    from .render import write_atomic

    gate = gate_for(None, policies=args.policy, fail_on=args.fail_on, baseline=args.base)
    new = read_audit(Path(args.new))
    comparison = compare(gate.baseline, new, base_path=args.base, new_path=args.new, verdict=evaluate(gate, new))
    text = compare_render.render(comparison, args.format)
    if args.out:
        write_atomic(Path(args.out), text.encode("utf-8"))
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
    validate = commands.add_parser("validate", help="check a spec (and its policies) without loading the model")
    validate.add_argument("spec", help="the audit spec (YAML)")
    validate.set_defaults(command=_validate)
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
        sub.add_argument("--debug", action="store_true", help="show tracebacks")
    return parser


def _policy_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policy", action="append", default=[], metavar="NAME|FILE",
                        help="a policy pack (stock name: default, embedding, strict; or a YAML file); repeatable")
