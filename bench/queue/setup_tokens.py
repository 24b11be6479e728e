"""Prepare a queue benchmark: load the pack, make operators with API tokens for the counters
of one centre that serve the service's group, and write [[counter_id, token], ...] as JSON."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django  # noqa: E402

django.setup()

from rest_framework.authtoken.models import Token  # noqa: E402

from onestop.accounts.models import Role, User  # noqa: E402
from onestop.catalogue.models import Service  # noqa: E402
from onestop.centres.models import Counter  # noqa: E402
from onestop.packs.services import pack_load  # noqa: E402
from onestop.queueing.models import CounterState, Ticket  # noqa: E402

pack, centre, service_code, count, out = sys.argv[1:6]
pack_load(pack)
service = Service.objects.get(country__code=os.path.basename(pack.rstrip("/")), code=service_code)
Ticket.objects.filter(centre__code=centre).delete()
CounterState.objects.filter(counter__centre__code=centre).delete()
counters = Counter.objects.filter(centre__code=centre, group_links__group=service.group).order_by("number")[: int(count)]
pairs = []
for counter in counters:
    user, _ = User.objects.get_or_create(username=f"bench.{centre}.{counter.number}",
                                         defaults={"role": Role.OPERATOR, "counter": counter})
    user.centres.add(counter.centre)
    token, _ = Token.objects.get_or_create(user=user)
    pairs.append([counter.pk, token.key])
with open(out, "w") as fh:
    json.dump(pairs, fh)
print(f"{len(pairs)} counters ready")
