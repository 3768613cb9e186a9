"""A run never leaves a folder whose files disagree: reports are staged, moved in together with
their manifest.json, and a killed run leaves the earlier run's files (and manifest) whole."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_input_errors import TINY, cli, one_line_error, written

from audit.cli import Terminated, main
from audit.render import publish
from audit.render.publish import Staging

ROOT = Path(__file__).resolve().parents[1]


def snapshot(folder: Path) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def earlier_run(tmp_path_factory) -> Path:
    """A folder holding a finished run: audit.json, report.html, report.pdf, manifest.json."""
    folder = tmp_path_factory.mktemp("earlier")
    spec = folder / "spec.yaml"
    spec.write_text(TINY.replace("formats: [json]", "formats: [json, html, pdf]"))
    completed = cli("run", str(spec), "--quiet", "--out", str(folder / "reports"))
    assert completed.returncode == 0, completed.stderr
    return folder


def copy_of(earlier: Path, tmp_path: Path) -> tuple[Path, Path]:
    spec = tmp_path / "spec.yaml"
    spec.write_text((earlier / "spec.yaml").read_text())
    reports = tmp_path / "reports"
    reports.mkdir()
    for path in (earlier / "reports").iterdir():
        (reports / path.name).write_bytes(path.read_bytes())
    return spec, reports


def test_the_manifest_lists_every_report_of_the_run(earlier_run):
    reports = earlier_run / "reports"
    manifest = json.loads((reports / "manifest.json").read_text())
    assert sorted(manifest["files"]) == ["audit.json", "report.html", "report.pdf"]
    assert set(snapshot(reports)) == {*manifest["files"], "manifest.json"}
    for name, entry in manifest["files"].items():
        data = (reports / name).read_bytes()
        assert entry == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    run_id = json.loads((reports / "audit.json").read_text())["run_id"]
    assert manifest["run_id"] == run_id and len(run_id) == 16
    assert run_id.encode() in (reports / "report.html").read_bytes()  # a reader can match the PDF/HTML to it


def test_a_run_killed_after_rendering_audit_json_leaves_the_earlier_run_whole(earlier_run, tmp_path, monkeypatch):
    spec, reports = copy_of(earlier_run, tmp_path)
    before = snapshot(reports)

    def killed(*args, **kwargs):
        raise Terminated()  # what SIGTERM raises, once audit.json is already staged

    monkeypatch.setattr("audit.render.html.render", killed)
    assert main(["run", str(spec), "--quiet", "--out", str(reports)]) == 143
    assert snapshot(reports) == before  # the old set, its manifest, and no staging folder


def test_sigterm_during_the_reports_leaves_the_earlier_run_whole(earlier_run, tmp_path):
    spec, reports = copy_of(earlier_run, tmp_path)
    before = snapshot(reports)
    process = subprocess.Popen([sys.executable, "-m", "audit", "run", str(spec), "--quiet", "--out", str(reports)],
                               stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 240
    while not any(path.name.endswith(".partial") for path in reports.iterdir()):  # the run is writing its reports
        assert process.poll() is None and time.monotonic() < deadline, "the run ended before staging its reports"
        time.sleep(0.005)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143 and err.strip() == "terminated: no report was moved into place"
    assert snapshot(reports) == before


def test_a_narrower_run_removes_the_earlier_reports_it_did_not_write(earlier_run, tmp_path):
    spec, reports = copy_of(earlier_run, tmp_path)
    spec.write_text(spec.read_text().replace("formats: [json, html, pdf]", "formats: [json]"))
    assert main(["run", str(spec), "--quiet", "--out", str(reports)]) == 0
    assert sorted(snapshot(reports)) == ["audit.json", "manifest.json"]


def test_a_move_cut_short_leaves_no_manifest(tmp_path, monkeypatch):
    (tmp_path / "manifest.json").write_text("{}")
    moves = []

    def replace_then_fail(source, target):
        if moves:
            raise OSError("disk gone")
        moves.append(target)
        os.rename(source, target)

    monkeypatch.setattr(publish.os, "replace", replace_then_fail)
    with pytest.raises(OSError), Staging(tmp_path, "r1") as stage:
        stage.add("audit.json", b"{}")
        stage.add("report.html", b"<html>")
        stage.publish(created="now", version="0", known=("audit.json", "report.html"))
    assert written(tmp_path) == ["audit.json"]  # half a set, and no manifest claiming it whole


def test_compare_refuses_an_audit_json_its_manifest_disowns(earlier_run, tmp_path):
    _, reports = copy_of(earlier_run, tmp_path)
    audit = reports / "audit.json"
    assert cli("compare", str(audit), str(audit)).returncode == 0
    line = one_line_error(cli("compare", str(audit), str(audit), "--out", str(tmp_path / "nowhere" / "c.md")))
    assert line == f"error: --out: no folder {tmp_path / 'nowhere'} to write c.md into"
    audit.write_text(audit.read_text().replace('"title": "', '"title": "edited '))
    line = one_line_error(cli("compare", str(earlier_run / "reports" / "audit.json"), str(audit)))
    assert line.startswith(f"error: {audit}: differs from the sha256 in manifest.json beside it")


def test_a_staging_folder_left_by_a_dead_process_is_removed_by_the_next_run(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    abandoned = tmp_path / publish.staging_name("r0", int(dead.stdout))
    abandoned.mkdir()
    (abandoned / "audit.json").write_text("{}")  # what SIGKILL leaves behind
    alive = tmp_path / publish.staging_name("r1")  # this process's: still running, kept
    alive.mkdir()
    with Staging(tmp_path, "r2") as stage:
        stage.add("audit.json", b"{}")
        stage.publish(created="now", version="0", known=("audit.json",))
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted([alive.name, "audit.json", "manifest.json"])
