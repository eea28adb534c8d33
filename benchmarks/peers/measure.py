#!/usr/bin/env python3
"""Runs one command once and appends one JSON line of measurements to --out.

    measure.py --out F.jsonl --tag NAME [--testbed DIR] [--stdout FILE] -- command args...
    measure.py --wait-idle DIR          # (hyperfine --prepare) wait until the testbed is quiet

Measured for the command (a child of this process):
  wall        seconds, monotonic clock, from spawn to exit
  cpu         client CPU (user + sys, os.wait4: the command and every descendant it waited for,
              so pssh/clush/pdsh count their ssh processes)
  maxrss_mib  peak RSS of the largest single process of the client tree (ru_maxrss)
  busy        machine busy CPU-seconds during the run (/proc/stat: total - idle - iowait)
  floor       (busy - cpu) / cores: the issue's floor (includes other users' load!)
  sshd_cpu    CPU-seconds of the testbed's sshd processes and their reaped sessions during the
              run (listeners' utime+stime+cutime+cstime), measured after every session is reaped
  sshd_floor  sshd_cpu / cores: the same floor, immune to other users of the machine
  load        1-minute load average just before the run
"""
import argparse
import json
import os
import subprocess
import sys
import time

CLK = os.sysconf("SC_CLK_TCK")
CORES = os.sysconf("SC_NPROCESSORS_ONLN")


def machine_jiffies():
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:9]]
    total = sum(fields)
    return total - fields[3] - fields[4], total


def listeners(testbed):
    if not testbed:
        return []
    try:
        with open(os.path.join(testbed, "testbed.json")) as f:
            return [s["pid"] for s in json.load(f)["sshd"]]
    except (OSError, ValueError, KeyError):
        return []


def proc_stat(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()


def sshd_cpu(pids):
    total = 0
    for pid in pids:
        fields = proc_stat(pid)
        if fields:  # fields[11..14] = utime stime cutime cstime (stat fields 14-17)
            total += sum(int(x) for x in fields[11:15])
    return total / CLK


def sessions(pids):
    """Per-connection processes still below the listeners."""
    wanted = set(pids)
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = proc_stat(entry)
            if fields and int(fields[1]) in wanted:
                found.append(int(entry))
    return found


def wait_sessions_gone(pids, timeout):
    deadline = time.monotonic() + timeout
    while sessions(pids) and time.monotonic() < deadline:
        time.sleep(0.05)


def wait_idle(testbed, threshold=0.5, timeout=3.0):
    """No session left (up to 20 s), then the machine below `threshold` busy over 0.5 s (up to
    `timeout`: other users of the machine may keep it busy whatever we wait)."""
    pids = listeners(testbed)
    wait_sessions_gone(pids, 20.0)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = sessions(pids)
        b0, t0 = machine_jiffies()
        time.sleep(0.5)
        b1, t1 = machine_jiffies()
        if not left and (b1 - b0) / max(1, t1 - t0) < threshold:
            return


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out")
    parser.add_argument("--tag", default="")
    parser.add_argument("--testbed")
    parser.add_argument("--stdout", help="file for the command's stdout (default /dev/null)")
    parser.add_argument("--wait-idle", metavar="DIR")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.wait_idle:
        wait_idle(args.wait_idle)
        return 0
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    pids = listeners(args.testbed)
    out = open(args.stdout, "wb") if args.stdout else subprocess.DEVNULL
    with open("/proc/loadavg") as f:
        load = float(f.read().split()[0])
    s0 = sshd_cpu(pids)
    b0, _ = machine_jiffies()
    start = time.monotonic()
    child = subprocess.Popen(command, stdout=out, stdin=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.monotonic() - start
    b1, _ = machine_jiffies()
    # Sessions still closing count to the run (sshd's side of it).
    wait_sessions_gone(pids, 5.0)
    s1 = sshd_cpu(pids)
    cpu = usage.ru_utime + usage.ru_stime
    busy = (b1 - b0) / CLK
    record = {
        "tag": args.tag, "wall": wall, "cpu": cpu, "user": usage.ru_utime, "sys": usage.ru_stime,
        "maxrss_mib": usage.ru_maxrss / 1024, "busy": busy, "floor": max(0.0, busy - cpu) / CORES,
        "sshd_cpu": s1 - s0, "sshd_floor": (s1 - s0) / CORES, "load": load,
        "status": os.waitstatus_to_exitcode(status), "cores": CORES,
        "program": os.path.basename(command[0]),
    }
    if args.out:
        with open(args.out, "a") as f:
            f.write(json.dumps(record) + "\n")
    print(json.dumps(record), file=sys.stderr)
    return 0 if record["status"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
