"""Export the loaded state of a country as a pack that validates and loads back unchanged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from onestop.catalogue.models import Agency, PriorityGroup, Service, ServiceGroup
from onestop.centres.models import Centre, Closure

from .models import Country


class _Dumper(yaml.SafeDumper):
    pass


def _str_presenter(dumper, value):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_presenter)


def _write(path: Path, data: dict[str, Any]) -> None:
    header = "# Exported by `onestop pack export`. Validate with `onestop pack validate`.\n"
    text = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)
    path.write_text(header + text, encoding="utf-8")


def _fee(value, decimals: int) -> str:
    return f"{value:.{decimals}f}"


def pack_export(code: str, outdir: Path | str) -> Path:
    country = Country.objects.get(code=code)
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    closures = []
    for closure in Closure.objects.filter(country=country).prefetch_related("centres"):
        entry: dict[str, Any] = {"date": closure.date, "name": closure.name}
        codes = sorted(c.code for c in closure.centres.all())
        if codes:
            entry["centres"] = codes
        closures.append(entry)
    pack: dict[str, Any] = {
        "code": country.code,
        "name": country.name,
        "languages": country.languages,
        "currency": country.currency,
        "currency_decimals": country.currency_decimals,
        "time_zone": country.time_zone,
        "weekend": country.weekend,
        "holidays": {"country": country.holiday_country, "closures": closures},
        "national_id": country.national_id,
        "phone_region": country.phone_region,
    }
    _write(out / "pack.yaml", pack)
    agencies = []
    for agency in Agency.objects.filter(country=country, archived_at__isnull=True):
        entry = {"code": agency.code, "name": agency.name}
        if agency.website:
            entry["website"] = agency.website
        if agency.auxiliary:
            entry["auxiliary"] = True
        agencies.append(entry)
    _write(out / "agencies.yaml", {"agencies": agencies})
    groups = [{"code": g.code, "prefix": g.prefix, "name": g.name}
              for g in ServiceGroup.objects.filter(country=country, archived_at__isnull=True)]
    services = []
    for service in (Service.objects.filter(country=country, archived_at__isnull=True)
                    .select_related("agency", "group").prefetch_related("tiers")):
        tiers = []
        for tier in service.tiers.all():
            if tier.archived_at is not None:
                continue
            entry = {"code": tier.code, "name": tier.name, "fee": _fee(tier.fee, country.currency_decimals)}
            if tier.same_day:
                entry["same_day"] = True
            else:
                entry["term_days"] = tier.term_days
            tiers.append(entry)
        handling = service.handling_minutes
        services.append({
            "code": service.code, "agency": service.agency.code, "group": service.group.code,
            "name": service.name, "description": service.description, "documents": service.documents,
            "tiers": tiers, "channels": service.channels,
            "handling_minutes": int(handling) if handling == int(handling) else float(handling),
        })
    _write(out / "services.yaml", {"service_groups": groups, "services": services})
    centres = []
    for centre in Centre.objects.filter(country=country, archived_at__isnull=True).prefetch_related(
            "counters__group_links__group", "route"):
        entry = {"code": centre.code, "kind": centre.kind, "name": centre.name,
                 "address": centre.address}
        if centre.time_zone != country.time_zone:
            entry["time_zone"] = centre.time_zone
        if centre.hours:
            entry["hours"] = centre.hours
        if centre.remote_join:
            entry["remote_join"] = True
        entry["counters"] = [
            {"number": counter.number, **({"zone": counter.zone} if counter.zone else {}),
             "groups": [{"group": link.group.code, "priority": link.priority}
                        for link in counter.group_links.all()]}
            for counter in centre.counters.all() if counter.archived_at is None
        ]
        if centre.kind == "mobile":
            entry["route"] = [{"date": stop.date, "place": stop.place,
                               "hours": f"{stop.opens:%H:%M}-{stop.closes:%H:%M}"} for stop in centre.route.all()]
        centres.append(entry)
    _write(out / "centres.yaml", {"centres": centres})
    _write(out / "priority_groups.yaml", {"priority_groups": [
        {"code": p.code, "name": p.name, "proof": p.proof}
        for p in PriorityGroup.objects.filter(country=country, archived_at__isnull=True)]})
    _write(out / "rules.yaml", country.rules)
    return out
