"""Build probe.txt: real English sentences from text that ships with Python itself.

    .venv/bin/python examples/minilm/make_probe.py            # writes examples/minilm/probe.txt
    .venv/bin/python examples/minilm/make_probe.py --check    # exits 1 if probe.txt would change

Sources (no network; see PROBE_SOURCES.md for the licence):

1. ``pydoc_data.topics.topics``: the plain-text Python Language Reference and library topics
   that ``help()`` shows. Every sentence that passes the filters is kept.
2. Docstrings of the pure-Python standard library (read with ``ast``, nothing is imported),
   from files whose only copyright notices name the Python Software Foundation; tests, codecs
   and bundled wheels are skipped. A seeded sample of them tops the probe up to ``TARGET``.

Paragraphs are split on blank lines; headings, grammar productions, interactive sessions and
code are dropped; each prose paragraph is split into sentences, kept when they read as a
sentence (capital start, final punctuation, 6-60 words, few symbols or code names), then
de-duplicated and shuffled with a fixed seed so that any prefix is a fair sample. The output
is the same on every run with the same Python version.
"""

from __future__ import annotations

import argparse
import ast
import random
import re
import sys
import sysconfig
from pathlib import Path
from pydoc_data.topics import topics

OUTPUT = Path(__file__).with_name("probe.txt")
SEED = 0
TARGET = 3000
_SKIPPED_DIRS = {"test", "tests", "idle_test", "site-packages", "encodings", "turtledemo", "ensurepip",
                 "pydoc_data", "lib2to3", "__pycache__"}
MIN_WORDS, MAX_WORDS = 6, 60
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "cf.", "approx.", "resp.", "Fig.", "No.")
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"”’)]))\s+(?=[\"“(]?[A-Z])")
_CODE_MARKERS = re.compile(
    r">>>|::=|\.\.\. |[{}\\]|==|\+=|->|\w\[|^\s*#"
    r"|^\s*(def|class|import|from|return|print|for|if|while|with)\b.*[:()]\s*$"
)
_ALLOWED = re.compile(r"[A-Za-z0-9_\s.,;:!?'\"()“”’\-—–/%*]")


def paragraphs(text: str) -> list[str]:
    """Prose paragraphs of one topic: blocks between blank lines, minus headings and code."""
    kept = []
    for block in re.split(r"\n\s*\n", text):
        lines = [line for line in block.splitlines() if line.strip()]
        if not lines or any(re.fullmatch(r"\s*[*=\-~^]{3,}\s*", line) for line in lines):
            continue  # a heading with its underline
        if any(_CODE_MARKERS.search(line) for line in lines):
            continue
        joined = " ".join(line.strip() for line in lines)
        kept.append(re.sub(r"(?<=[a-z]-) (?=[a-z])", "", joined))  # "non-\nnumeric": a wrapped hyphen
    return kept


def clean(paragraph: str) -> str:
    """Drop list markers, footnote marks, emphasis asterisks and note labels; squeeze spaces."""
    text = re.sub(r"^(?:[*\-•]|\d+\.|\(\d+\))\s+", "", paragraph)
    text = re.sub(r"\[\d+\]", "", text)
    text = re.sub(r"\*\*?([^*]+?)\*\*?", r"\1", text)
    text = re.sub(r"^(?:Note|Warning|See also|Changed in version [\d.]+|New in version [\d.]+|"
                  r"Deprecated since version [\d.]+|CPython implementation detail):\s*", "", text)
    return re.sub(r"\s+", " ", text).strip()


def sentences(paragraph: str) -> list[str]:
    """Split a paragraph at . ! ? followed by a capital, keeping common abbreviations whole."""
    protected = paragraph
    for abbreviation in _ABBREVIATIONS:
        protected = protected.replace(abbreviation, abbreviation.replace(".", "\x00"))
    return [part.replace("\x00", ".").strip() for part in _SENTENCE_END.split(protected)]


def reads_as_prose(sentence: str) -> bool:
    """A real sentence: capital start, final stop, 6-60 words, mostly letters, little code."""
    words = sentence.split()
    if not MIN_WORDS <= len(words) <= MAX_WORDS:
        return False
    if not re.match(r"[\"“(]?[A-Z]", sentence) or not re.search(r"[.!?][\"”’)]?$", sentence):
        return False
    if re.match(r'Module "[\w.]+" [A-Z]', sentence):
        return False  # a "See also" entry: module name, then its one-line summary
    if any(not _ALLOWED.match(char) for char in sentence):
        return False  # symbols such as < > = [ ] | @ ^ ~ mark code or formulas
    letters = sum(char.isalpha() or char == " " for char in sentence)
    if letters / len(sentence) < 0.85 or sentence.count('"') > 6:
        return False
    plain_words = [word for word in words if re.fullmatch(r"[A-Za-z’'\-]+[.,;:!?]?", word)]
    return len(plain_words) >= 0.7 * len(words)


def prose(texts) -> list[str]:
    """The sentences of ``texts`` (in order) that read as prose."""
    return [sentence for text in texts for paragraph in paragraphs(text) for sentence in sentences(clean(paragraph))
            if reads_as_prose(sentence)]


def docstrings() -> list[str]:
    """Module, class and function docstrings of the PSF-only pure-Python standard library."""
    root = Path(sysconfig.get_paths()["stdlib"])
    found = []
    for path in sorted(root.rglob("*.py"), key=lambda p: p.relative_to(root).as_posix()):
        if _SKIPPED_DIRS & set(path.relative_to(root).parts[:-1]):
            continue
        try:
            source = path.read_text(encoding="utf-8")
            tree = ast.parse(source) if _psf_only(source) else None
        except (SyntaxError, UnicodeDecodeError):
            continue
        if tree is None:
            continue
        nodes = (node for node in ast.walk(tree) if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                                                                      ast.AsyncFunctionDef)))
        found.extend(text for node in nodes if (text := ast.get_docstring(node)))
    return found


def _psf_only(source: str) -> bool:
    """True when every line mentioning copyright names the Python Software Foundation."""
    notices = [line for line in source.splitlines() if "copyright" in line.lower()]
    return all("Python Software Foundation" in line for line in notices)


def build() -> list[tuple[str, str]]:
    """(source, sentence) pairs: every reference sentence, then docstring sentences up to TARGET."""
    seen: set[str] = set()
    reference = _unique(prose(topics[name] for name in sorted(topics)), seen)
    extra = _unique(prose(docstrings()), seen)
    extra = random.Random(SEED).sample(extra, max(0, min(len(extra), TARGET - len(reference))))
    chosen = [("reference", s) for s in reference] + [("docstrings", s) for s in extra]
    random.Random(SEED).shuffle(chosen)
    return chosen


def _unique(found: list[str], seen: set[str]) -> list[str]:
    """``found`` without sentences already in ``seen`` (case-insensitive), which it extends."""
    kept = []
    for sentence in found:
        if sentence.lower() not in seen:
            seen.add(sentence.lower())
            kept.append(sentence)
    return kept


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if probe.txt is missing or differs")
    args = parser.parse_args(argv)
    chosen = build()
    text = "".join(sentence + "\n" for _, sentence in chosen)
    if args.check:
        same = OUTPUT.exists() and OUTPUT.read_text(encoding="utf-8") == text
        print(f"{OUTPUT}: {'up to date' if same else 'differs from a fresh build'}")
        return 0 if same else 1
    temporary = OUTPUT.with_suffix(".txt.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(OUTPUT)
    counts = {source: sum(1 for s, _ in chosen if s == source) for source in ("reference", "docstrings")}
    print(f"wrote {len(chosen)} sentences to {OUTPUT} (Python {sys.version.split()[0]}): {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
