#!/usr/bin/env python3
"""The AsyncJobs benchmark's graphs run by the Python asynciojobs, for the ratio.

  asynciojobs_bench.py --case flat|chain|dag --jobs N

prints `kind jobs buildSeconds runSeconds peakBytes baseBytes` like asyncjobs-bench's child mode:
no-op jobs; flat (independent), chain (each requires the previous), dag (layers of 100, each job
requiring two jobs of the previous layer).
"""
import argparse
import resource
import time

from asynciojobs import Job, Scheduler

LAYER = 100


async def noop():
    return None


def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def make_jobs(kind, count):
    jobs = []
    for index in range(count):
        job = Job(noop())
        if kind == "chain" and index > 0:
            job.requires(jobs[index - 1])
        elif kind == "dag" and index >= LAYER:
            start = (index // LAYER - 1) * LAYER
            pos = index % LAYER
            job.requires(jobs[start + pos], jobs[start + (pos + 1) % LAYER])
        jobs.append(job)
    return jobs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--case", required=True)
    parser.add_argument("--jobs", type=int, required=True)
    args = parser.parse_args()
    base = peak()
    t0 = time.monotonic()
    scheduler = Scheduler(*make_jobs(args.case, args.jobs), critical=False)
    t1 = time.monotonic()
    ok = scheduler.run()
    t2 = time.monotonic()
    if not ok:
        print("FAILED", args.case, args.jobs)
        raise SystemExit(1)
    print(args.case, args.jobs, t1 - t0, t2 - t1, peak(), base)


if __name__ == "__main__":
    main()
