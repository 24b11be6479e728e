"""The ``onestop`` console command: Django management plus the project's subcommands.

``onestop pack validate PATH`` is ``manage.py pack validate PATH``; every Django
management command works the same way (``onestop migrate``, ``onestop runserver``).
"""

import os
import sys


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    from django.core.management import execute_from_command_line

    args = list(argv if argv is not None else sys.argv)
    if len(args) < 2:
        args.append("help")
    try:
        execute_from_command_line(args)
    except SystemExit as exc:  # management commands exit with their status
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    return 0


def entry() -> None:
    sys.exit(main())
