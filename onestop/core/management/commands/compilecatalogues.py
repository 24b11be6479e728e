"""Compile the gettext catalogues (.po -> .mo) in pure Python, with Babel.

Django's ``compilemessages`` needs GNU gettext's ``msgfmt``, which a fresh machine may
not have; Babel reads and writes the same formats. ``--check`` fails when a catalogue is
missing for a language in ``LANGUAGES`` or when a compiled file is out of date.
"""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Compile every locale/<lang>/LC_MESSAGES/*.po to .mo (no GNU gettext needed)."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="fail on a missing or stale catalogue")

    def handle(self, *args, **options):
        problems = []
        compiled = 0
        from django.apps import apps

        bases = [Path(p) for p in settings.LOCALE_PATHS]
        for config in apps.get_app_configs():
            candidate = Path(config.path) / "locale"
            if config.name.startswith("onestop.") and candidate.is_dir() and candidate not in bases:
                bases.append(candidate)
        for base in bases:
            for code, _name in settings.LANGUAGES:
                po = base / code / "LC_MESSAGES" / "django.po"
                mo = po.with_suffix(".mo")
                if not po.exists():
                    problems.append(f"{po}: catalogue missing for language '{code}'")
                    continue
                try:
                    with po.open("rb") as fh:
                        catalog = read_po(fh, locale=code.replace("-", "_"), abort_invalid=True)
                except Exception as exc:  # a broken catalogue is reported, not a traceback
                    problems.append(f"{po}: cannot be read: {exc}")
                    continue
                if options["check"]:
                    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
                        problems.append(f"{mo}: not compiled or older than {po.name}")
                    untranslated = [m.id for m in catalog if m.id and code != "en" and (
                        not all(m.string) if isinstance(m.string, tuple | list) else not m.string)]
                    if untranslated:
                        problems.append(f"{po}: {len(untranslated)} untranslated messages, first: {untranslated[0]!r}")
                    continue
                with mo.open("wb") as fh:
                    write_mo(fh, catalog, use_fuzzy=False)
                compiled += 1
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(f"{len(problems)} catalogue problems", returncode=1)
        if not options["check"]:
            self.stdout.write(f"compiled {compiled} catalogues")
        else:
            self.stdout.write("catalogues complete and compiled")
