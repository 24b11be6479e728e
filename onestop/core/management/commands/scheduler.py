"""``onestop scheduler``: run the idempotent sweeps on one machine (the embedded set-up)."""

import logging
import signal
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from onestop.core.sweeps import all_sweeps

log = logging.getLogger("onestop.scheduler")


class Command(BaseCommand):
    help = "Run every registered sweep at its interval until stopped (--once: one pass)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true")

    def handle(self, *args, **options):
        stop = {"now": False}

        def _stop(*_):
            stop["now"] = True

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        sweeps = all_sweeps()
        due = {s.name: 0.0 for s in sweeps}
        self.stdout.write(f"scheduler: {len(sweeps)} sweeps: {', '.join(s.name for s in sweeps) or 'none yet'}")
        while not stop["now"]:
            now = time.monotonic()
            for item in sweeps:
                if now >= due[item.name]:
                    close_old_connections()
                    try:
                        changed = item.func()
                        if changed:
                            log.info("sweep %s changed %s records", item.name, changed)
                    except Exception:
                        log.exception("sweep %s failed; it will run again", item.name)
                    due[item.name] = now + item.every_seconds
            if options["once"]:
                break
            time.sleep(1)
