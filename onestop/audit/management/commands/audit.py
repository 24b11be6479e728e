from django.core.management.base import BaseCommand, CommandError

from onestop.audit.verify import verify_all


class Command(BaseCommand):
    help = "Audit trail tools. `audit verify` checks every hash chain."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args, **options):
        streams, events, breaks = verify_all()
        if breaks:
            for item in breaks:
                self.stderr.write(f"BROKEN {item}")
            raise CommandError(f"audit chain broken in {len(breaks)} of {streams} streams", returncode=1)
        self.stdout.write(f"audit OK: {events} events in {streams} streams, every chain intact")
