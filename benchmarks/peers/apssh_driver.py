#!/usr/bin/env python3
"""The Python apssh (library) on testbed hosts, as its CLI would run them.

The apssh CLI cannot take a port (targets are user@host, port 22) nor a known_hosts file, so this
driver builds the same objects the CLI builds (SshNode per host, SshJob per node, one asynciojobs
Scheduler, HostFormatter "host:line" on stdout) with the testbed's port, key and known_hosts.

  apssh_driver.py --testbed DIR fanout --count N -- COMMAND      # window unlimited
  apssh_driver.py --testbed DIR reuse --mode seq|10x10            # 100 `true` on the first host
  apssh_driver.py --testbed DIR push --count N --file F --remote PATH
  apssh_driver.py --testbed DIR pull --count N --remote PATH --local DIR
"""
import argparse
import json
import os
import sys

import asyncssh
from asynciojobs import Scheduler
from apssh import SshNode, SshJob, Run, Push, Pull
from apssh.formatters import HostFormatter


def testbed_hosts(directory, count):
    with open(os.path.join(directory, "testbed.json")) as f:
        description = json.load(f)
    hosts = description["hosts"][:count]
    key = asyncssh.read_private_key(description["userKeyPath"])
    return description, hosts, key


def node(description, host, key, formatter=None):
    return SshNode(
        host["address"], username=description["user"], keys=[key], port=host["port"],
        known_hosts=description["knownHostsPath"], formatter=formatter or HostFormatter(verbose=False), verbose=False)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--testbed", required=True)
    sub = parser.add_subparsers(dest="mode", required=True)
    p = sub.add_parser("fanout"); p.add_argument("--count", type=int, default=10**9)
    p.add_argument("command", nargs=argparse.REMAINDER)
    p = sub.add_parser("reuse"); p.add_argument("--mode", dest="shape", choices=["seq", "10x10"])
    p = sub.add_parser("push"); p.add_argument("--count", type=int); p.add_argument("--file")
    p.add_argument("--remote")
    p = sub.add_parser("pull"); p.add_argument("--count", type=int); p.add_argument("--remote")
    p.add_argument("--local")
    args = parser.parse_args()

    count = getattr(args, "count", None) or (1 if args.mode == "reuse" else 10**9)
    description, hosts, key = testbed_hosts(args.testbed, count)
    scheduler = Scheduler()
    if args.mode == "fanout":
        command = " ".join(args.command[1:] if args.command[:1] == ["--"] else args.command)
        for host in hosts:
            SshJob(node(description, host, key), command=Run(command), scheduler=scheduler)
    elif args.mode == "reuse":
        shared = node(description, hosts[0], key)
        if args.shape == "seq":
            SshJob(shared, commands=[Run("true") for _ in range(100)], scheduler=scheduler)
        else:
            for _ in range(10):
                SshJob(shared, commands=[Run("true") for _ in range(10)], scheduler=scheduler)
    elif args.mode == "push":
        for host in hosts:
            SshJob(node(description, host, key),
                   command=Push(localpaths=[args.file], remotepath=args.remote),
                   scheduler=scheduler)
    else:
        for host in hosts:
            local = os.path.join(args.local, host["address"])
            os.makedirs(local, exist_ok=True)
            SshJob(node(description, host, key),
                   command=Pull(remotepaths=[args.remote], localpath=local),
                   scheduler=scheduler)
    ok = scheduler.run()
    if not ok:
        scheduler.debrief()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
