"""Loading and exporting country packs.

``pack_load`` validates first and writes nothing unless the pack is valid; then, in one
transaction, it brings the database to the pack's state: creates what is new, updates
what changed (reporting each change), archives services, centres and other records the
pack no longer lists (never deletes them), and records fee and term changes as audit
events in the agency's stream. Loading the same pack twice reports 0 changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from django.db import models, transaction

from onestop.audit.services import audit_record, stream_for_agency, stream_national
from onestop.catalogue.models import Agency, PriorityGroup, Service, ServiceGroup, Tier
from onestop.centres.models import Centre, Closure, Counter, CounterGroup, RouteStop
from onestop.centres.selectors import parse_interval
from onestop.core import clock, localcache

from .models import Country
from .schema import PackReport, validate_pack


class PackInvalid(Exception):
    def __init__(self, report: PackReport):
        super().__init__(f"pack has {len(report.errors)} errors")
        self.report = report


@dataclass
class LoadResult:
    country: str
    changes: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.changes)


def _fmt(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {v}" for k, v in value.items()) + "}"
    return str(value)


class _Sync:
    """Applies field values to a model instance and remembers what changed."""

    def __init__(self, result: LoadResult):
        self.result = result

    def apply(self, obj, label: str, values: dict[str, Any]) -> list[tuple[str, Any, Any]]:
        changed = []
        for name, new in values.items():
            if isinstance(new, models.Model):
                old_id = getattr(obj, f"{name}_id")
                if old_id != new.pk:
                    # Model declares no `objects`; every model synced here has Django's implicit one.
                    model = cast("type[Any]", type(new))
                    old_obj = model.objects.filter(pk=old_id).first() if old_id else None
                    changed.append((name, getattr(old_obj, "code", old_id), getattr(new, "code", new.pk)))
                    setattr(obj, name, new)
                continue
            old = getattr(obj, name)
            if isinstance(old, Decimal) or isinstance(new, Decimal):
                same = old is not None and new is not None and Decimal(old) == Decimal(new)
                same = same or (old is None and new is None)
            else:
                same = old == new
            if not same:
                changed.append((name, old, new))
                setattr(obj, name, new)
        if obj.pk is None:
            obj.save()
            self.result.changes.append(f"created {label}")
        elif changed:
            obj.save()
            for name, old, new in changed:
                self.result.changes.append(f"updated {label}: {name} {_fmt(old)} -> {_fmt(new)}")
        return changed


def pack_load(folder: Path | str, *, actor=None) -> LoadResult:
    report = validate_pack(folder)
    if not report.ok:
        raise PackInvalid(report)
    data = report.data
    with transaction.atomic():
        return _load(data, actor)


def _load(data: dict[str, Any], actor) -> LoadResult:
    c = data["country"]
    result = LoadResult(country=c["code"])
    sync = _Sync(result)
    now = clock.now()
    country = Country.objects.select_for_update().filter(code=c["code"]).first() or Country(code=c["code"])
    rules = data["rules"]
    sync.apply(country, f"country {c['code']}", {
        "name": c["name"], "languages": c["languages"], "currency": c["currency"],
        "currency_decimals": c["currency_decimals"], "time_zone": c["time_zone"], "weekend": c["weekend"],
        "holiday_country": c["holidays"]["country"], "national_id": c["national_id"],
        "phone_region": c["phone_region"], "rules": rules,
    })
    code = c["code"]

    def restore(obj, label):
        if obj.pk and obj.archived_at is not None:
            obj.archived_at = None
            result.changes.append(f"restored {label}")
            obj.save(update_fields=["archived_at"])

    def archive_missing(model, keep: set[str], what: str):
        for obj in model.objects.filter(country=country, archived_at__isnull=True).exclude(code__in=keep):
            obj.archived_at = now
            obj.save(update_fields=["archived_at"])
            result.changes.append(f"archived {what} {obj.code}")

    # agencies
    agencies: dict[str, Agency] = {}
    for pos, item in enumerate(data["agencies"]):
        obj = Agency.objects.filter(country=country, code=item["code"]).first() or Agency(country=country, code=item["code"])
        restore(obj, f"agency {item['code']}")
        sync.apply(obj, f"agency {item['code']}", {"name": item["name"], "website": item["website"],
                                                   "auxiliary": item["auxiliary"], "position": pos, "from_pack": code})
        agencies[item["code"]] = obj
    archive_missing(Agency, set(agencies), "agency")

    groups: dict[str, ServiceGroup] = {}
    # Archive dropped groups first so a prefix can move to a new group in the same load.
    keep_groups = {g["code"] for g in data["service_groups"]}
    archive_missing(ServiceGroup, keep_groups, "service group")
    # A prefix moving between two kept groups: clear the old holder's prefix first.
    prefixes = {g["code"]: g["prefix"] for g in data["service_groups"]}
    for holder in ServiceGroup.objects.filter(country=country, code__in=keep_groups):
        if holder.prefix != prefixes[holder.code] and prefixes[holder.code] in {
                o.prefix for o in ServiceGroup.objects.filter(country=country).exclude(pk=holder.pk)}:
            holder.prefix = holder.prefix.lower()  # frees the letter for the group that takes it
            holder.save(update_fields=["prefix"])
    for pos, item in enumerate(data["service_groups"]):
        group = ServiceGroup.objects.filter(country=country, code=item["code"]).first() or ServiceGroup(country=country, code=item["code"])
        restore(group, f"service group {item['code']}")
        sync.apply(group, f"service group {item['code']}", {"prefix": item["prefix"], "name": item["name"],
                                                           "position": pos, "from_pack": code})
        groups[item["code"]] = group

    seen_priority = set()
    for pos, item in enumerate(data["priority_groups"]):
        priority = (PriorityGroup.objects.filter(country=country, code=item["code"]).first()
                    or PriorityGroup(country=country, code=item["code"]))
        restore(priority, f"priority group {item['code']}")
        sync.apply(priority, f"priority group {item['code']}", {"name": item["name"], "proof": item["proof"],
                                                               "position": pos, "from_pack": code})
        seen_priority.add(item["code"])
    archive_missing(PriorityGroup, seen_priority, "priority group")

    seen_services = set()
    for pos, item in enumerate(data["services"]):
        agency = agencies[item["agency"]]
        service = Service.objects.filter(country=country, code=item["code"]).first() or Service(country=country, code=item["code"])
        restore(service, f"service {item['code']}")
        sync.apply(service, f"service {item['code']}", {
            "agency": agency, "group": groups[item["group"]], "name": item["name"],
            "description": item["description"], "documents": item["documents"], "channels": item["channels"],
            "handling_minutes": item["handling_minutes"], "position": pos, "from_pack": code,
        })
        seen_services.add(item["code"])
        _sync_tiers(service, item, sync, result, actor, agency, now)
    archive_missing(Service, seen_services, "service")

    seen_centres = set()
    for pos, item in enumerate(data["centres"]):
        centre = Centre.objects.filter(country=country, code=item["code"]).first() or Centre(country=country, code=item["code"])
        restore(centre, f"centre {item['code']}")
        sync.apply(centre, f"centre {item['code']}", {
            "kind": item["kind"], "name": item["name"], "address": item["address"],
            "time_zone": item["time_zone"] or c["time_zone"], "hours": item["hours"],
            "remote_join": item["remote_join"], "position": pos, "from_pack": code,
        })
        seen_centres.add(item["code"])
        _sync_counters(centre, item, groups, sync, result, now)
        _sync_route(centre, item, sync, result)
    archive_missing(Centre, seen_centres, "centre")

    _sync_closures(country, c["holidays"]["closures"], sync, result)

    if result.changes:
        audit_record(stream=stream_national(code), action="pack.load", obj=country, actor=actor,
                     after={"changes": len(result.changes), "summary": result.changes[:200]})
    if country.loaded_at is None or result.changes:
        Country.objects.filter(pk=country.pk).update(loaded_at=now)

    # Reference data read on every request is cached per process (bulk updates send no
    # signals, so the loader clears it itself once the new pack is committed).
    transaction.on_commit(localcache.clear)
    return result


def _sync_tiers(service: Service, item: dict, sync: _Sync, result: LoadResult, actor, agency: Agency, now) -> None:
    keep = set()
    for pos, tier in enumerate(item["tiers"]):
        obj = Tier.objects.filter(service=service, code=tier["code"]).first() or Tier(service=service, code=tier["code"])
        label = f"tier {service.code}/{tier['code']}"
        before = None if obj.pk is None else {"fee": str(obj.fee), "term_days": obj.term_days, "same_day": obj.same_day}
        if obj.pk and obj.archived_at is not None:
            obj.archived_at = None
            result.changes.append(f"restored {label}")
        changed = sync.apply(obj, label, {"name": tier["name"], "fee": tier["fee"], "term_days": tier["term_days"],
                                          "same_day": tier["same_day"], "position": pos, "archived_at": None})
        keep.add(tier["code"])
        if before is not None and any(name in {"fee", "term_days", "same_day"} for name, _, _ in changed):
            audit_record(stream=stream_for_agency(agency), action="tier.terms_changed", obj=obj, actor=actor,
                         before=before, after={"fee": str(obj.fee), "term_days": obj.term_days,
                                               "same_day": obj.same_day})
    for obj in Tier.objects.filter(service=service, archived_at__isnull=True).exclude(code__in=keep):
        obj.archived_at = now
        obj.save(update_fields=["archived_at"])
        result.changes.append(f"archived tier {service.code}/{obj.code}")


def _sync_counters(centre: Centre, item: dict, groups: dict, sync: _Sync, result: LoadResult, now) -> None:
    keep = set()
    for counter in item["counters"]:
        obj = Counter.objects.filter(centre=centre, number=counter["number"]).first() or Counter(
            centre=centre, number=counter["number"])
        label = f"counter {centre.code}#{counter['number']}"
        if obj.pk and obj.archived_at is not None:
            result.changes.append(f"restored {label}")
        sync.apply(obj, label, {"zone": counter["zone"], "archived_at": None})
        keep.add(counter["number"])
        wanted = {link["group"]: link["priority"] for link in counter["groups"]}
        existing = {link.group.code: link for link in obj.group_links.select_related("group")}
        for gcode, priority in wanted.items():
            link = existing.get(gcode)
            if link is None:
                CounterGroup.objects.create(counter=obj, group=groups[gcode], priority=priority)
                result.changes.append(f"{label} now serves {gcode} (priority {priority})")
            elif link.priority != priority:
                result.changes.append(f"{label}: priority of {gcode} {link.priority} -> {priority}")
                link.priority = priority
                link.save(update_fields=["priority"])
        for gcode, link in existing.items():
            if gcode not in wanted:
                link.delete()
                result.changes.append(f"{label} no longer serves {gcode}")
    for obj in Counter.objects.filter(centre=centre, archived_at__isnull=True).exclude(number__in=keep):
        obj.archived_at = now
        obj.save(update_fields=["archived_at"])
        result.changes.append(f"archived counter {centre.code}#{obj.number}")


def _sync_route(centre: Centre, item: dict, sync: _Sync, result: LoadResult) -> None:
    wanted = {stop["date"]: stop for stop in item["route"]}
    for obj in centre.route.all():
        if obj.date not in wanted:
            obj.delete()
            result.changes.append(f"removed route stop {centre.code} {obj.date}")
    for day, stop in wanted.items():
        opens, closes = parse_interval(stop["hours"])
        obj = RouteStop.objects.filter(centre=centre, date=day).first() or RouteStop(centre=centre, date=day)
        sync.apply(obj, f"route stop {centre.code} {day}", {"place": stop["place"], "opens": opens, "closes": closes})


def _sync_closures(country: Country, closures: list[dict], sync: _Sync, result: LoadResult) -> None:
    wanted = {c["date"]: c for c in closures}
    for obj in Closure.objects.filter(country=country):
        if obj.date not in wanted:
            obj.delete()
            result.changes.append(f"removed closure {obj.date}")
    for day, closure in wanted.items():
        obj = Closure.objects.filter(country=country, date=day).first() or Closure(country=country, date=day)
        sync.apply(obj, f"closure {day}", {"name": closure["name"]})
        want = set(closure["centres"])
        have = set(obj.centres.values_list("code", flat=True))
        if want != have:
            obj.centres.set(Centre.objects.filter(country=country, code__in=want))
            result.changes.append(f"closure {day}: centres {sorted(have)} -> {sorted(want)}")
