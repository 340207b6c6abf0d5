"""Ingestion benchmark: wall time and peak memory of `pipeline_runner.py ingest`.

Runs the real command in a child process with the DirectRunner in multi-process mode and
samples the resident memory of its whole process tree (runner + Beam workers) every 0.2 s.

  python benchmarks/ingest.py                      # both cases
  python benchmarks/ingest.py --cases ml-1m        # one case

Cases: `ml-1m` (../shared/data/ml-1m, never copied) and `synthetic-20m` (a seeded synthetic
log of ML-20M size: 138,000 users, 27,000 items, ~20 M interactions, generated first into a
temporary folder; generation is timed apart). Writes benchmarks/results/ingest.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from speed_common import environment

ROOT = Path(__file__).resolve().parent.parent
BEAM_ARGS = ["--", "--direct_running_mode=multi_processing", "--direct_num_workers=2"]


def measure(cmd: list[str], log_path: Path) -> dict:
    """Runs `cmd`; returns wall seconds and the peak summed RSS of its process tree."""
    start = time.monotonic()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        root = psutil.Process(proc.pid)
        peak = 0
        while proc.poll() is None:
            try:
                procs = [root, *root.children(recursive=True)]
                rss = 0
                for p in procs:
                    try:
                        rss += p.memory_info().rss
                    except psutil.Error:
                        pass
                peak = max(peak, rss)
            except psutil.Error:
                pass
            time.sleep(0.2)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        tail = log_path.read_text()[-3000:]
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{tail}")
    return {"wall_s": round(wall, 1), "peak_rss_mb": round(peak / 2**20, 1)}


def _report(out: Path) -> dict:
    r = json.loads((out / "data_report.json").read_text())
    return {k: r[k] for k in ("users", "items", "actions", "rows_read", "rows_kept")}


def run_ml1m(shared_data: Path, work: Path) -> dict:
    out = work / "ml-1m"
    cmd = [
        sys.executable,
        "pipeline_runner.py",
        "ingest",
        "--dataset",
        "ml-1m",
        "--data-dir",
        str(shared_data / "ml-1m"),
        "--output",
        str(out),
        *BEAM_ARGS,
    ]
    result = measure(cmd, work / "ml-1m.log")
    return {**result, "data": _report(out)}


def run_synthetic_20m(work: Path) -> dict:
    data = work / "synthetic-20m-input"
    gen = [
        sys.executable,
        "pipeline_runner.py",
        "synthesize",
        "--output",
        str(data),
        "--users",
        "138000",
        "--items",
        "27000",
        "--categories",
        "20",
        "--mean-length",
        "145",
        "--seed",
        "20",
    ]
    generation = measure(gen, work / "synthesize.log")
    out = work / "synthetic-20m"
    cmd = [
        sys.executable,
        "pipeline_runner.py",
        "ingest",
        "--dataset",
        "csv",
        "--data-path",
        str(data / "interactions.csv"),
        "--rating-column",
        "rating",
        "--id-type",
        "int",
        "--items-path",
        str(data / "items.csv"),
        "--output",
        str(out),
        *BEAM_ARGS,
    ]
    result = measure(cmd, work / "synthetic-20m.log")
    return {**result, "data": _report(out), "generation": generation}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--cases", nargs="+", default=["ml-1m", "synthetic-20m"], choices=["ml-1m", "synthetic-20m"]
    )
    parser.add_argument("--shared-data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--results", default=str(ROOT / "benchmarks/results/ingest.json"))
    parser.add_argument("--work-dir", help="keep outputs here (default: a temporary folder)")
    args = parser.parse_args()

    results_path = Path(args.results)
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    with tempfile.TemporaryDirectory(dir=args.work_dir) as tmp:
        work = Path(tmp)
        for case in args.cases:
            print(f"running {case} ...", flush=True)
            if case == "ml-1m":
                results[case] = run_ml1m(Path(args.shared_data), work)
            else:
                results[case] = run_synthetic_20m(work)
            print(f"{case}: {json.dumps(results[case])}", flush=True)
    results["environment"] = environment(
        "DirectRunner, direct_running_mode=multi_processing, direct_num_workers=2",
        peak_rss_mb="sum of the resident memory of the runner and its worker processes",
    )
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {results_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
