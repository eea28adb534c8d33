#!/usr/bin/env python3
"""parallel-ssh (ParallelSSHClient, libssh2 via ssh2-python) on testbed hosts.

  parallel_ssh_driver.py --testbed DIR --count N -- COMMAND

pool_size = number of hosts (widest fan-out), run_command + join, prints "host: line".
"""
import argparse
import json
import os
import sys

from pssh.clients import ParallelSSHClient


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--testbed", required=True)
    parser.add_argument("--count", type=int, default=10**9)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    with open(os.path.join(args.testbed, "testbed.json")) as f:
        description = json.load(f)
    hosts = description["hosts"][:args.count]
    command = " ".join(args.command[1:] if args.command[:1] == ["--"] else args.command)
    client = ParallelSSHClient(
        [h["address"] for h in hosts], user=description["user"], port=hosts[0]["port"],
        pkey=description["userKeyPath"], pool_size=len(hosts), num_retries=1, timeout=60,
        allow_agent=False)
    output = client.run_command(command, stop_on_errors=False)
    client.join(output)
    failed = 0
    write = sys.stdout.write
    for host_output in output:
        if host_output.exception is not None:
            failed += 1
            print(f"{host_output.host}: error {host_output.exception!r}", file=sys.stderr)
            continue
        for line in host_output.stdout:
            write(f"{host_output.host}: {line}\n")
        if host_output.exit_code != 0:
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
