from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from onestop.packs.export import pack_export
from onestop.packs.models import Country
from onestop.packs.national_id import NationalIdFormat
from onestop.packs.schema import validate_pack
from onestop.packs.services import PackInvalid, pack_load


def resolve_pack(value: str) -> Path:
    path = Path(value)
    if path.is_dir():
        return path
    candidate = Path(settings.ONESTOP_PACKS_DIR) / value
    return candidate if candidate.is_dir() else path


class Command(BaseCommand):
    help = "Country packs: validate, load, export, sample-ids."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        validate = sub.add_parser("validate", help="check a pack; list every error as file:line: path: message")
        validate.add_argument("path")
        load = sub.add_parser("load", help="load a pack (idempotent); report what changed")
        load.add_argument("path")
        load.add_argument("--verbose-changes", action="store_true", help="list every change")
        export = sub.add_parser("export", help="write a loaded country back as a pack")
        export.add_argument("code")
        export.add_argument("outdir")
        sample = sub.add_parser("sample-ids", help="print N valid sample national ID numbers")
        sample.add_argument("pack")
        sample.add_argument("n", type=int)
        sample.add_argument("--seed", type=int, default=0)

    def handle(self, *args, **options):
        action = options["action"]
        if action == "validate":
            folder = resolve_pack(options["path"])
            report = validate_pack(folder)
            if not report.ok:
                for error in report.errors:
                    self.stdout.write(str(error))
                raise CommandError(f"{folder}: {len(report.errors)} errors", returncode=1)
            self.stdout.write(f"{folder}: valid pack '{report.data['country']['code']}'")
        elif action == "load":
            folder = resolve_pack(options["path"])
            try:
                result = pack_load(folder)
            except PackInvalid as exc:
                for error in exc.report.errors:
                    self.stdout.write(str(error))
                raise CommandError(f"{folder}: {len(exc.report.errors)} errors; nothing was written",
                                   returncode=1) from None
            for change in result.changes[:50] if not options["verbose_changes"] else result.changes:
                self.stdout.write(f"  {change}")
            if len(result.changes) > 50 and not options["verbose_changes"]:
                self.stdout.write(f"  ... and {len(result.changes) - 50} more (--verbose-changes lists them)")
            self.stdout.write(f"pack '{result.country}' loaded: {result.count} changes")
        elif action == "export":
            if not Country.objects.filter(code=options["code"]).exists():
                raise CommandError(f"no loaded country '{options['code']}'", returncode=1)
            out = pack_export(options["code"], options["outdir"])
            self.stdout.write(f"pack '{options['code']}' exported to {out}")
        elif action == "sample-ids":
            if options["n"] < 1:
                raise CommandError("N must be at least 1", returncode=1)
            folder = resolve_pack(options["pack"])
            if folder.is_dir():
                report = validate_pack(folder)
                spec = report.data.get("country", {}).get("national_id")
                if not report.ok or not spec:
                    raise CommandError(f"{folder}: the pack is not valid; run `onestop pack validate`",
                                       returncode=1)
            else:
                country = Country.objects.filter(code=options["pack"]).first()
                if country is None:
                    raise CommandError(f"no pack folder or loaded country '{options['pack']}'", returncode=1)
                spec = country.national_id
            for value in NationalIdFormat.from_pack(spec).samples(options["n"], seed=options["seed"]):
                self.stdout.write(value)
