"""What a saved notebook costs per character of its answers: cell outputs + widget state / text.

Run from the repository root::

    .venv/bin/python benchmarks/bench_saved_size.py                       # quickstart and notebook 05
    .venv/bin/python benchmarks/bench_saved_size.py notebooks/01-quickstart.ipynb --baseline 8e193f7
    .venv/bin/python benchmarks/bench_saved_size.py --json

For each notebook, offline (provider keys scrubbed, replays at ``THINKBOOK_REPLAY_SPEED=16``):

1. Executes it headless with nbclient, as ``jupyter nbconvert --to notebook --execute`` does, with a
   first cell added that wraps ``LiveDisplay.finish`` to count the characters of reasoning and answer
   of every view that ended (``reasoning`` + ``answer_markdown`` of ``view.final_state()``, which
   every version of the view has), and a last cell that prints the count. Both cells are removed before
   measuring, so only the notebook's own cells are measured.
2. Measures the bytes of the saved cell outputs that belong to thinkbook (outputs with thinkbook
   metadata, a widget mime, or thinkbook's static HTML) plus the whole ``metadata.widgets`` state, as
   ``nbformat.write`` writes them (UTF-8 JSON), and divides by the characters counted (``bytes/char``)
   and by the UTF-8 bytes of that text (``x text``: 1.0 would be the text stored once; Chinese
   characters are 3 bytes each, so ``bytes/char`` is about 3 for a Chinese text stored once).
3. Does the same with the code of ``--baseline`` (a git revision, exported with ``git archive`` into a
   temporary directory and put first on the kernel's ``PYTHONPATH``): the ratio after/before is
   measured in the same run, on the same machine, with the same recordings.

The goal (issue 11): a finished view costs at most ~3x its text in the file. Reported, not asserted;
the exit code is 1 only when a notebook fails to run. :func:`measure` is also used by the browser
test that saves a notebook from JupyterLab (``tests/browser/test_saved_notebooks_browser.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import nbformat

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_NOTEBOOKS = ("notebooks/01-quickstart.ipynb", "notebooks/05-compare-models.ipynb")
# The last commit whose finished views stayed widgets (saved with their JS, CSS and state).
DEFAULT_BASELINE = "8e193f7"
KEYS = ("DASHSCOPE_API_KEY", "OPENAI_API_KEY", "DEEPSEEK_API_KEY", "OPENROUTER_API_KEY", "OPENAI_BASE_URL")
HOOK_TAG = "thinkbook-bench-hook"
TEXT_MARK = "THINKBOOK_BENCH_TEXT="

HOOK_SOURCE = """\
import thinkbook._display as _tb_display

_TB_TEXT = [0, 0]  # characters of reasoning + answer, views that ended
_tb_finish = _tb_display.LiveDisplay.finish


def _tb_counting_finish(self, *args, **kwargs):
    _tb_finish(self, *args, **kwargs)
    state = self.view.final_state()
    _TB_TEXT[0] += len(state.reasoning) + len(state.answer_markdown)
    _TB_TEXT[1] += len((state.reasoning + state.answer_markdown).encode("utf-8"))


_tb_display.LiveDisplay.finish = _tb_counting_finish
"""
REPORT_SOURCE = f'import time; time.sleep(0.5); print("{TEXT_MARK}" + str(_TB_TEXT[0]) + "," + str(_TB_TEXT[1]))'


@dataclass(frozen=True)
class Sizes:
    """One saved notebook: what thinkbook put in it, and the text it stands for."""

    file_bytes: int  # the whole .ipynb
    output_bytes: int  # thinkbook's cell outputs (all mime types and metadata)
    widget_bytes: int  # metadata.widgets (every saved widget state)
    views: int  # thinkbook outputs
    text_chars: int  # reasoning + answer characters of the views that ended
    text_bytes: int  # the same text, UTF-8

    @property
    def saved_bytes(self) -> int:
        return self.output_bytes + self.widget_bytes

    @property
    def bytes_per_char(self) -> float:
        return self.saved_bytes / max(1, self.text_chars)

    @property
    def times_text(self) -> float:
        return self.saved_bytes / max(1, self.text_bytes)


def _json_bytes(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, indent=1).encode("utf-8"))


def is_thinkbook_output(output: Any) -> bool:
    """A view's (or panel's) output: thinkbook metadata, a widget, or thinkbook's static HTML."""
    data = output.get("data", {})
    html = data.get("text/html", "")
    html = "".join(html) if isinstance(html, list) else html
    return (
        "thinkbook" in output.get("metadata", {})
        or "application/vnd.jupyter.widget-view+json" in data
        or 'class="tb-static' in html
        or "data-tb=" in html
    )


def measure(notebook: Any, text: tuple[int, int] | None = None) -> Sizes:
    """Sizes of ``notebook`` (a NotebookNode, as it would be saved); ``text``: (chars, UTF-8 bytes)."""
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    mine = [o for o in outputs if is_thinkbook_output(o)]
    widgets = notebook.metadata.get("widgets")
    chars, utf8 = text or (0, 0)
    return Sizes(
        file_bytes=len(nbformat.writes(notebook).encode("utf-8")),
        output_bytes=sum(_json_bytes(o) for o in mine),
        widget_bytes=_json_bytes(widgets) if widgets else 0,
        views=len(mine),
        text_chars=chars,
        text_bytes=utf8,
    )


def _kernel_env(code_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in KEYS}
    env["PYTHONPATH"] = os.pathsep.join([str(code_dir), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["THINKBOOK_REPLAY_SPEED"] = "16"
    env.setdefault("LANG", "C.UTF-8")
    return env


def execute(path: Path, code_dir: Path, *, timeout: float = 300) -> tuple[Any, tuple[int, int]]:
    """Run ``path`` headless with the thinkbook in ``code_dir``; (the notebook without the hook cells, text)."""
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    hook = nbformat.v4.new_code_cell(HOOK_SOURCE, metadata={"tags": [HOOK_TAG]})
    report = nbformat.v4.new_code_cell(REPORT_SOURCE, metadata={"tags": [HOOK_TAG]})
    notebook.cells = [hook, *notebook.cells, report]
    saved_env = dict(os.environ)
    os.environ.clear()
    os.environ.update(_kernel_env(code_dir))  # the kernel inherits this process's environment
    try:
        client = NotebookClient(
            notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
        )
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
    printed = "".join(o.get("text", "") for o in report.get("outputs", []) if o.get("output_type") == "stream")
    chars, _, utf8 = printed.split(TEXT_MARK, 1)[1].strip().partition(",")
    notebook.cells = [c for c in notebook.cells if HOOK_TAG not in c.get("metadata", {}).get("tags", [])]
    return notebook, (int(chars), int(utf8))


def export_revision(revision: str, into: Path) -> Path | None:
    """The package at ``revision`` (``git archive``), or None when git cannot give it."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", revision, "thinkbook", "js"], capture_output=True
    )
    if archive.returncode != 0:
        print(f"baseline {revision!r} not available: {archive.stderr.decode().strip()}", file=sys.stderr)
        return None
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def _line(label: str, sizes: Sizes) -> str:
    return (
        f"  {label:<9} file {sizes.file_bytes:>9,} B | thinkbook outputs {sizes.output_bytes:>8,} B"
        f" + widget state {sizes.widget_bytes:>8,} B ({sizes.views} outputs) | text {sizes.text_chars:>6,} chars"
        f" ({sizes.text_bytes:,} B) | {sizes.bytes_per_char:6.2f} bytes/char, {sizes.times_text:5.2f}x text"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", default=list(DEFAULT_NOTEBOOKS))
    parser.add_argument("--baseline", default=DEFAULT_BASELINE, help="git revision to compare with ('' for none)")
    parser.add_argument("--json", action="store_true", help="JSON on stdout")
    parser.add_argument("--keep", type=Path, help="write the executed notebooks into this folder")
    args = parser.parse_args(argv)

    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="tb-bench-") as temp:
        variants = {"current": ROOT}
        if args.baseline:
            base = export_revision(args.baseline, Path(temp))
            if base is not None:
                variants = {"baseline": base, **variants}
        for name in args.notebooks:
            path = (ROOT / name) if not Path(name).is_absolute() else Path(name)
            print(f"{path.name}:", file=sys.stderr)
            report[path.name] = {}
            for label, code_dir in variants.items():
                started = time.monotonic()
                try:
                    notebook, text = execute(path, code_dir)
                except Exception as error:  # a report line, then a failing exit code
                    print(f"  {label}: failed to run: {type(error).__name__}: {error}", file=sys.stderr)
                    return 1
                sizes = measure(notebook, text)
                if args.keep:
                    args.keep.mkdir(parents=True, exist_ok=True)
                    nbformat.write(notebook, args.keep / f"{path.stem}-{label}.ipynb")
                report[path.name][label] = {
                    **asdict(sizes),
                    "bytes_per_char": round(sizes.bytes_per_char, 2),
                    "times_text": round(sizes.times_text, 2),
                    "seconds": round(time.monotonic() - started, 1),
                }
                print(_line(label, sizes), file=sys.stderr)
            both = report[path.name]
            if "baseline" in both and both["baseline"]["bytes_per_char"]:
                ratio = both["current"]["bytes_per_char"] / both["baseline"]["bytes_per_char"]
                both["current_vs_baseline"] = round(ratio, 3)
                verdict = "meets" if both["current"]["times_text"] <= 3.0 else "misses"
                print(f"  current/baseline {ratio:.3f}x; {verdict} the ~3x-text goal", file=sys.stderr)
    if args.json:
        print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
