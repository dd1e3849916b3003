#!/usr/bin/env python3
"""kubesim: a test double of the Kubernetes (k3s) API server.

Usage: python3 kubesim.py --dir DIR [--port 0] [--latency-ms N]
                          [--error-rate F] [--seed N] [--ready-ms N]

Writes DIR/{ca,client-ca,server,client}.{crt,key}, DIR/token, DIR/kubeconfig,
DIR/port and, once listening, DIR/ready. See README.md.
"""

import argparse
import os
import signal
import sys

from sim import pki
from sim.server import Knobs, Server, Simulator, tls_context


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", required=True,
                        help="state directory (certificates, kubeconfig)")
    parser.add_argument("--port", type=int, default=0,
                        help="port on 127.0.0.1 (0 picks a free one)")
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--error-code", type=int, default=500,
                        choices=(500, 503))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--ready-ms", type=int, default=100,
                        help="default delay before workloads become ready")
    parser.add_argument("--crd-delay-ms", type=int, default=50,
                        help="delay before a new CRD is established")
    parser.add_argument("--crd-discovery-delay-ms", type=int, default=0,
                        help="delay after a CRD is Established before its "
                        "kinds are served and in discovery")
    parser.add_argument("--helm-job-delay-ms", type=int, default=300,
                        help="delay before helm-controller replaces the "
                        "install Job of a changed HelmChart")
    parser.add_argument("--history", type=int, default=10000,
                        help="watch events kept for resuming watches")
    parser.add_argument("--credentials", choices=pki.STYLES, default="plain",
                        help="k3s: SEC1 EC keys and a client certificate "
                        "chain in the kubeconfig, as k3s writes them")
    parser.add_argument("--verbose", action="store_true",
                        help="log every request to stderr")
    return parser.parse_args(argv)


def write_file(path, text):
    with open(path + ".tmp", "w", encoding="ascii") as out:
        out.write(text)
    os.replace(path + ".tmp", path)


def main(argv=None):
    args = parse_args(argv)
    directory = os.path.abspath(args.dir)
    os.makedirs(directory, exist_ok=True)
    ready = os.path.join(directory, "ready")
    if os.path.exists(ready):
        os.remove(ready)
    pki.ensure(directory, args.credentials)
    knobs = Knobs(latency_ms=args.latency_ms, error_rate=args.error_rate,
                  error_code=args.error_code, ready_ms=args.ready_ms,
                  crd_delay_ms=args.crd_delay_ms,
                  crd_discovery_delay_ms=args.crd_discovery_delay_ms,
                  helm_job_delay_ms=args.helm_job_delay_ms)
    sim = Simulator(knobs, args.history, args.seed, pki.read_token(directory))
    server = Server(("127.0.0.1", args.port), sim, tls_context(directory),
                    args.verbose)
    port = server.server_address[1]
    server.pki_dir = directory
    pki.write_kubeconfig(directory, port)
    write_file(os.path.join(directory, "port"), f"{port}\n")

    def stop(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sim.controllers.start()
    write_file(ready, f"{os.getpid()}\n")
    print(f"kubesim: listening on https://127.0.0.1:{port} (dir {directory})",
          flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except SystemExit:
        pass
    finally:
        server.stopping = True
        sim.controllers.stop()
        server.server_close()
        if os.path.exists(ready):
            os.remove(ready)
    return 0


if __name__ == "__main__":
    sys.exit(main())
