"""Run every benchmark: ``python -m benchmarks [scheduler|eventlog] [--quick]``."""

from __future__ import annotations

import argparse
import logging

from benchmarks import api_load, configurator, event_log, opcua, scheduler, twin


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    choices = ["scheduler", "configurator", "twin", "eventlog", "api", "opcua"]
    parser.add_argument("which", nargs="*", choices=choices, default=choices)
    parser.add_argument("--quick", action="store_true", help="fewer instances, runs and events")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if "scheduler" in args.which:
        scheduler.main(quick=args.quick)
    if "configurator" in args.which:
        configurator.main(quick=args.quick)
    if "twin" in args.which:
        twin.main(quick=args.quick)
    if "eventlog" in args.which:
        event_log.main(quick=args.quick)
    if "api" in args.which:
        api_load.main(quick=args.quick)
    if "opcua" in args.which:
        opcua.main(quick=args.quick)


if __name__ == "__main__":
    main()
