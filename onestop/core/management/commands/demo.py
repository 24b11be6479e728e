"""``onestop demo``: load a pack and create the demo staff accounts (password ``demo``).

Only this command creates demo accounts. Re-running keeps existing data.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from onestop.accounts.models import Role, User
from onestop.catalogue.models import Agency
from onestop.centres.models import Centre
from onestop.packs.management.commands.pack import resolve_pack
from onestop.packs.services import PackInvalid, pack_load

DEMO_PASSWORD = "demo"  # noqa: S105 - documented demo password, demo command only


def _account(username: str, role: str, *, superuser: bool = False) -> tuple[User, bool]:
    user, created = User.objects.get_or_create(username=username, defaults={"role": role})
    if created:
        user.set_password(DEMO_PASSWORD)
        user.is_staff = True
        user.is_superuser = superuser
        user.save()
    return user, created


def create_demo_accounts(country) -> list[str]:
    made = []
    with transaction.atomic():
        admin, created = _account("admin", Role.NATIONAL_ADMIN, superuser=True)
        made += ["admin"] if created else []
        _, created = _account("auditor", Role.AUDITOR)
        made += ["auditor"] if created else []
        for centre in Centre.objects.filter(country=country, archived_at__isnull=True).prefetch_related("counters"):
            manager, created = _account(f"manager.{centre.code}", Role.CENTRE_MANAGER)
            manager.centres.add(centre)
            made += [manager.username] if created else []
            greeter, created = _account(f"greeter.{centre.code}", Role.GREETER)
            greeter.centres.add(centre)
            for counter in centre.counters.all():
                if counter.archived_at:
                    continue
                op, created = _account(f"op.{centre.code}.{counter.number}", Role.OPERATOR)
                op.centres.add(centre)
                if op.counter_id is None:
                    op.counter = counter  # an operator works at their own counter
                    op.save(update_fields=["counter"])
                made += [op.username] if created else []
        for agency in Agency.objects.filter(country=country, archived_at__isnull=True):
            officer, created = _account(f"officer.{agency.code}", Role.OFFICER)
            officer.agencies.add(agency)
            made += [officer.username] if created else []
    return made


class Command(BaseCommand):
    help = "Load a demo pack and create demo staff accounts (password 'demo')."

    def add_arguments(self, parser):
        parser.add_argument("--pack", default=settings.ONESTOP_PACK)
        parser.add_argument("--port", default="8000")

    def handle(self, *args, **options):
        folder = resolve_pack(options["pack"])
        try:
            result = pack_load(folder)
        except PackInvalid as exc:
            for error in exc.report.errors:
                self.stderr.write(str(error))
            raise CommandError("the demo pack is not valid", returncode=1) from None
        from onestop.packs.models import Country

        country = Country.objects.get(code=result.country)
        made = create_demo_accounts(country)
        base = f"http://127.0.0.1:{options['port']}"
        centre = Centre.objects.filter(country=country, archived_at__isnull=True, kind="fixed").first()
        agency = Agency.objects.filter(country=country, archived_at__isnull=True).first()
        self.stdout.write(f"pack '{country.code}' loaded ({result.count} changes); {len(made)} demo accounts created")
        self.stdout.write("")
        self.stdout.write(f"  Landing page     {base}/")
        self.stdout.write(f"  Services         {base}/services/")
        self.stdout.write(f"  Administration   {base}/admin/")
        self.stdout.write(f"  API              {base}/api/v1/docs/")
        for line in _extra_urls(base, centre):
            self.stdout.write(line)
        self.stdout.write("")
        self.stdout.write("  Demo logins (password 'demo' for all):")
        self.stdout.write("    admin                      national administrator")
        if centre:
            self.stdout.write(f"    manager.{centre.code:<18} centre manager (one per centre)")
            self.stdout.write(f"    op.{centre.code}.1{'':<{max(0, 21 - len(centre.code))}} counter operator (op.<centre>.<counter>)")
            self.stdout.write(f"    greeter.{centre.code:<18} greeter / reception")
        if agency:
            self.stdout.write(f"    officer.{agency.code:<18} back-office officer (one per agency)")
        self.stdout.write("    auditor                    auditor")


def _extra_urls(base, centre):
    from django.urls import NoReverseMatch, reverse

    lines = []
    if centre is None:
        return lines
    for label, name in [("Kiosk", "queueing:kiosk"), ("Display board", "queueing:board"),
                        ("Counter console", "queueing:counter_index"), ("Booking portal", "appointments:portal")]:
        try:
            url = reverse(name, kwargs={"centre": centre.code}) if name.endswith(("kiosk", "board")) else reverse(name)
        except NoReverseMatch:
            continue
        lines.append(f"  {label:<16} {base}{url}")
    return lines
