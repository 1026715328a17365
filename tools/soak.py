"""make soak: the fault campaign of tests/fault_campaign.py, run long with fresh random cases.

    .venv/bin/python tools/soak.py [--minutes 5 | --examples N] [--steps 100] [--batch 20] [--seed S]
                                   [--catch BUG ...]

It runs the same state machine as tests/test_fault_campaign.py (the real service, the Kodi fakes and
the fake Simkl server on virtual time), in hypothesis runs of --batch cases each, every run with its
own seed (S, S+1, ...), until the time or the number of cases is used up. A run that finds an invariant
broken prints hypothesis's minimal failing example; the soak goes on with the next seed. At the end it
prints what the cases did and what went wrong, and exits 1 if anything did. Known add-on bugs that are
still open are tolerated (fault_campaign.KNOWN_BUGS) unless named with --catch.

Counts cover every case run, shrinking included. "faults" are the server faults the cases injected,
"faulty answers" the answers Simkl gave that were not a success; "watches" the adds the user caused
(plays that count, marks, confirmed rewatches); "48h repeats" the adds the outbox dropped as repeats of
an add of the last 48 hours (the model checks each one); "attention" the entries kept for the user after
a fault that explains them (Simkl refused them).
"""
import argparse
import os
import random
import socketserver
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests"), os.path.join(ROOT, "tests", "kodi_fakes")]

import fault_campaign  # noqa: E402
from hypothesis import seed  # noqa: E402
from hypothesis.stateful import run_state_machine_as_test  # noqa: E402


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--minutes", type=float, default=5.0, help="run for this long (default 5)")
    budget.add_argument("--examples", type=int, help="run this many cases instead of a time budget")
    parser.add_argument("--steps", type=int, default=100, help="at most this many steps a case (default 100)")
    parser.add_argument("--batch", type=int, default=20, help="cases per hypothesis run (default 20)")
    parser.add_argument("--seed", type=int, help="the first run's seed (default: random)")
    parser.add_argument("--catch", action="append", default=[], choices=sorted(fault_campaign.KNOWN_BUGS),
                        metavar="BUG", help="stop tolerating this known add-on bug (see KNOWN_BUGS); repeatable")
    return parser.parse_args(argv)


def quiet_dropped_connections():
    """The fake's dropped-connection fault leaves socketserver a broken pipe to print: not news."""
    report = socketserver.BaseServer.handle_error

    def handle_error(server, request, client_address):
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            report(server, request, client_address)

    socketserver.BaseServer.handle_error = handle_error


def main(argv=None):
    args = parse_args(argv)
    quiet_dropped_connections()
    for name in args.catch:
        fault_campaign.KNOWN_BUGS[name] = False
    first_seed = args.seed if args.seed is not None else random.randrange(1_000_000)
    stats = fault_campaign.reset_stats()
    started = time.monotonic()
    deadline = None if args.examples else started + args.minutes * 60
    requested, runs, failures = 0, 0, []
    while True:
        if args.examples is not None and requested >= args.examples:
            break
        if deadline is not None and time.monotonic() >= deadline:
            break
        batch = args.batch if args.examples is None else min(args.batch, args.examples - requested)
        run_seed = first_seed + runs
        factory = seed(run_seed)(lambda: fault_campaign.FaultCampaign())
        settings = fault_campaign.campaign_settings(max_examples=batch, stateful_step_count=args.steps)
        try:
            run_state_machine_as_test(factory, settings=settings)
        except Exception as exc:  # noqa: BLE001 - every failure is reported, and the soak goes on
            for failure in getattr(exc, "exceptions", None) or [exc]:  # hypothesis groups distinct failures
                failures.append((run_seed, failure))
                print(describe(run_seed, failure), flush=True)
        requested += batch
        runs += 1
    minutes = (time.monotonic() - started) / 60
    print_table(stats, runs, first_seed, minutes, failures)
    return 1 if failures else 0


def print_table(stats, runs, first_seed, minutes, failures):
    print()
    print("fault campaign soak: %d hypothesis runs (seeds %d-%d), %.1f min"
          % (runs, first_seed, first_seed + max(0, runs - 1), minutes))
    columns = [("cases", stats.cases), ("steps", stats.steps), ("faults", stats.faults),
               ("faulty answers", stats.faulty_answers), ("restarts", stats.restarts), ("watches", stats.watches),
               ("unmarks", stats.unmarks), ("48h repeats", stats.repeats_dropped), ("delivered", stats.delivered),
               ("attention", stats.attention), ("lost", stats.lost), ("duplicated", stats.duplicated),
               ("failures", len(failures))]
    widths = [max(len(name), len(str(value))) for name, value in columns]
    print("  ".join(name.rjust(width) for (name, _), width in zip(columns, widths)))
    print("  ".join(str(value).rjust(width) for (_, value), width in zip(columns, widths)))
    tolerated = [name for name, on in fault_campaign.KNOWN_BUGS.items() if on]
    if tolerated:
        print("known add-on bugs tolerated (see tests/fault_campaign.py KNOWN_BUGS): %s" % ", ".join(tolerated))
    for run_seed, exc in failures:
        print("FAILED (seed %d): %s" % (run_seed, str(exc).splitlines()[0] if str(exc) else type(exc).__name__))


def describe(run_seed, exc):
    """The failure and hypothesis's minimal example, which it attaches to the exception as notes."""
    lines = ["", "=" * 100, "soak: seed %d: %s: %s" % (run_seed, type(exc).__name__, exc)]
    lines += [str(note) for note in getattr(exc, "__notes__", [])]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
