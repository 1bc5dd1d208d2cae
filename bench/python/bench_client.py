#!/usr/bin/env python3
"""Benchmarks of the Python client (issue 12): buffered metric logging and artifact upload.

Starts its own ``lineage server`` (the built CLI, as clients/python/tests does) on a throwaway SQLite
database, unless --url names a running one, and measures from this one process:

* metric logging: ``--points`` points per round through ``ActiveRun.log_metric`` (``--keys`` keys
  interleaved, rising steps), timed from the first call until ``flush()`` returns, i.e. until every
  point is stored; the median of ``--rounds`` rounds, each in a new run. Also the rate of the logging
  calls alone (what the training loop sees) and the CPU time this process spent per point (logging
  thread plus sender thread: the client's own cost, apart from the server's).
* artifact upload: a ``--file-mb`` MB file of fresh random bytes per round through
  ``Client.register_artifact`` (hash, existence probe, streamed upload, register); the median of
  ``--rounds`` rounds. For comparison the same through the C# SDK (``lineage artifacts push``, which
  calls ``LineageClient.RegisterArtifactAsync``), alternating with the Python rounds on the same server.

    /usr/bin/python3 bench/python/bench_client.py --points 2000000 --rounds 5 --file-mb 512
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "clients", "python", "src"))
sys.path.insert(0, os.path.join(REPO, "clients", "python", "tests"))

import lineage  # noqa: E402
from lineage_server import Server, cli_dll  # noqa: E402


def bench_metrics(client: lineage.Client, points: int, keys: int, rounds: int) -> None:
    names = [f"metric_{k}" for k in range(keys)]
    total_rates, call_rates, cpu_per_point = [], [], []
    for r in range(rounds):
        run = client.start_run("bench-python", name=f"metrics-{r}")
        steps = points // keys
        start = time.perf_counter()
        cpu_start = time.process_time()
        log = run.log_metric
        for step in range(steps):
            value = 1.0 / (step + 1)
            for name in names:
                log(name, value, step)
        logged = time.perf_counter()
        run.flush()
        stored = time.perf_counter()
        cpu = time.process_time() - cpu_start
        run.end()
        n = steps * keys
        total_rates.append(n / (stored - start))
        call_rates.append(n / (logged - start))
        cpu_per_point.append(cpu / n * 1e6)
        print(f"  round {r + 1}: {n:,} points stored in {stored - start:.2f} s = {n / (stored - start):,.0f} points/s "
              f"(logging calls alone {n / (logged - start):,.0f}/s; client CPU {cpu / n * 1e6:.2f} us/point)", flush=True)
    check = client.get_metric_history(run.run_id, names[0])
    assert len(check) == points // keys, "not every point was stored"
    print(f"metric logging, median of {rounds}: {statistics.median(total_rates):,.0f} points/s stored "
          f"(logging calls alone: {statistics.median(call_rates):,.0f}/s; client CPU, both threads: "
          f"{statistics.median(cpu_per_point):.2f} us/point = {1e6 / statistics.median(cpu_per_point):,.0f} points/s per core)")


def bench_upload(client: lineage.Client, server_url: str, file_mb: int, rounds: int, with_csharp: bool) -> None:
    size = file_mb * 1000 * 1000
    py_rates, cs_rates = [], []
    workdir = tempfile.mkdtemp(prefix="lineage-bench-")
    path = os.path.join(workdir, "blob.bin")
    try:
        for r in range(rounds):
            for who in (["python", "csharp"] if with_csharp else ["python"]):
                with open(path, "wb") as f:  # fresh bytes each time: content the server has is not uploaded again
                    remaining = size
                    while remaining:
                        chunk = os.urandom(min(remaining, 1 << 24))
                        f.write(chunk)
                        remaining -= len(chunk)
                os.sync()
                start = time.perf_counter()
                if who == "python":
                    client.register_artifact(name="bench-upload-python", path=path, artifact_type="model")
                else:
                    subprocess.run(["dotnet", cli_dll(), "artifacts", "push", "bench-upload-csharp", path, "--type", "model",
                                    "--server", server_url], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                seconds = time.perf_counter() - start
                rate = size / seconds / 1e6
                (py_rates if who == "python" else cs_rates).append(rate)
                print(f"  round {r + 1} {who}: {file_mb} MB in {seconds:.2f} s = {rate:,.0f} MB/s", flush=True)
    finally:
        for name in os.listdir(workdir):
            os.remove(os.path.join(workdir, name))
        os.rmdir(workdir)
    line = f"artifact upload ({file_mb} MB), median of {rounds}: Python {statistics.median(py_rates):,.0f} MB/s"
    if cs_rates:
        ratio = statistics.median(py_rates) / statistics.median(cs_rates)
        line += f"; C# SDK (lineage artifacts push) {statistics.median(cs_rates):,.0f} MB/s; Python/C# = {ratio:.0%}"
    print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running server (default: start one)")
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--keys", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--file-mb", type=int, default=256)
    parser.add_argument("--upload-rounds", type=int, default=3)
    parser.add_argument("--skip-upload", action="store_true")
    parser.add_argument("--skip-metrics", action="store_true")
    parser.add_argument("--no-csharp", action="store_true", help="do not compare with the C# SDK")
    args = parser.parse_args()
    print(f"Python {platform.python_version()} on {platform.platform()}, {os.cpu_count()} cores; load {os.getloadavg()}")
    server = None if args.url else Server()
    url = args.url or server.url
    try:
        client = lineage.Client(url)
        if not args.skip_metrics:
            bench_metrics(client, args.points, args.keys, args.rounds)
        if not args.skip_upload:
            bench_upload(client, url, args.file_mb, args.upload_rounds, not args.no_csharp)
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
