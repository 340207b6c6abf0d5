"""The documentation and the results files describe the product: a report short enough to
read, no paths of one machine, no account of how the work went."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RESULTS = sorted((ROOT / "benchmarks" / "results").glob("*.json"))
MACHINE_PATH = re.compile(r"(?<![\w.~-])/(?:work|home|root|Users|tmp)/")


def test_the_benchmark_report_stays_within_300_lines():
    lines = (ROOT / "docs" / "BENCHMARKS.md").read_text().count("\n")
    assert lines <= 300, f"docs/BENCHMARKS.md has {lines} lines"


def test_docs_and_results_name_no_path_of_one_machine():
    offenders = [
        str(p.relative_to(ROOT)) for p in DOCS + RESULTS if MACHINE_PATH.search(p.read_text())
    ]
    assert offenders == []


def test_docs_tell_no_story_of_the_work():
    offenders = [
        str(p.relative_to(ROOT))
        for p in DOCS
        if re.search(r"\bsessions?\b", p.read_text(), flags=re.IGNORECASE)
    ]
    assert offenders == []


def test_the_machine_path_pattern_catches_absolute_paths_only():
    assert MACHINE_PATH.search('"--export-dir /home/me/runs"')
    assert MACHINE_PATH.search("written to /tmp/x/results.json")
    assert not MACHINE_PATH.search("benchmarks/results/ml-1m.json")
    assert not MACHINE_PATH.search("../shared/data/ml-1m")
