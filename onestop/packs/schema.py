"""Country pack validation: every error with its file, line and field path.

``validate_pack(folder)`` reads the pack's YAML files and returns the normalised pack
(plain dicts and lists, fees as Decimal, dates as date) with the list of errors. The
loader refuses to write anything while the list is not empty.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal
from importlib import import_module
from pathlib import Path
from typing import Any

from onestop.core.calendar import WEEKDAYS, holiday_country_supported
from onestop.core.money import MoneyError, parse_amount

from .yamlsource import PackError, SourceFile, read_yaml

FILES = {
    "pack.yaml": None,
    "agencies.yaml": ("agencies",),
    "services.yaml": ("service_groups", "services"),
    "centres.yaml": ("centres",),
    "priority_groups.yaml": ("priority_groups",),
    "rules.yaml": ("booking", "queue", "kpi_targets"),
}
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
LANG_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
INTERVAL_RE = re.compile(r"^\s*(\d{2}:\d{2})\s*-\s*(\d{2}:\d{2})\s*$")
CHECK_RULES = {"luhn", "verhoeff", "damm", "mod11"}
CHANNELS = {"hall", "online", "mobile"}

RULE_FIELDS: dict[str, dict[str, tuple[type, float | None, float | None]]] = {
    "booking": {
        "slot_minutes": (int, 5, 240),
        "horizon_days": (int, 1, 365),
        "share_for_bookings": (float, 0, 1),
        "max_active_per_group": (int, 1, 100),
        "period_days": (int, 1, 365),
        "arrival_window_minutes": (int, 0, 600),
        "late_cutoff_minutes": (int, 0, 240),
    },
    "queue": {
        "max_priority_overtakes": (int, 0, 100),
        "notify_ahead": (int, 0, 100),
        "recall_timeout_seconds": (int, 10, 3600),
    },
    "kpi_targets": {
        "max_wait_minutes": (float, 0, 600),
        "max_wait_with_booking_minutes": (float, 0, 600),
        "deadline_compliance": (float, 0, 1),
        "satisfaction": (float, 0, 5),
    },
}
LATE_POLICIES = {"walk_in", "refuse"}


@dataclass
class PackReport:
    folder: Path
    data: dict[str, Any] = field(default_factory=dict)
    errors: list[PackError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class _Validator:
    def __init__(self, folder: Path):
        self.folder = folder
        self.errors: list[PackError] = []
        self.sources: dict[str, SourceFile] = {}
        self.languages: list[str] = []
        self.currency = ""
        self.decimals = 2

    # -- error helpers ---------------------------------------------------------------
    def err(self, file: str, path: str, message: str) -> None:
        source = self.sources.get(file)
        line = source.line(path) if source else 1
        self.errors.append(PackError(file, line, path, message))

    def section(self, file: str, key: str, kind: type = list) -> Any:
        source = self.sources[file]
        if source.missing or not isinstance(source.data, dict):
            return kind()
        if key not in source.data:
            self.err(file, "", f"missing section '{key}'")
            return kind()
        value = source.data[key]
        if value is None:
            return kind()
        if not isinstance(value, kind):
            self.err(file, key, f"must be a {'list' if kind is list else 'mapping'}")
            return kind()
        return value

    def mapping(self, file: str, path: str, value: Any) -> dict | None:
        if not isinstance(value, dict):
            self.err(file, path, "must be a mapping of fields")
            return None
        return value

    def required(self, file: str, path: str, item: dict, key: str) -> Any:
        if key not in item or item[key] is None or item[key] == "":
            self.err(file, _p(path, key), "required field is missing")
            return None
        return item[key]

    def unknown_fields(self, file: str, path: str, item: dict, allowed: set[str]) -> None:
        for key in item:
            if key not in allowed:
                self.err(file, _p(path, key), f"unknown field '{key}' (allowed: {', '.join(sorted(allowed))})")

    def code(self, file: str, path: str, item: dict, key: str = "code") -> str | None:
        value = self.required(file, path, item, key)
        if value is None:
            return None
        if not isinstance(value, str) or not CODE_RE.match(value):
            self.err(file, _p(path, key),
                     f"invalid code {value!r}: use lower-case letters, digits, '-' or '_' (at most 40)")
            return None
        return value

    def text(self, file: str, path: str, value: Any, *, required: bool = True) -> dict[str, str]:
        """A translated text: a string for every pack language."""
        if value is None:
            if required:
                self.err(file, path, "required text is missing")
            return {}
        if not isinstance(value, dict):
            self.err(file, path, f"must be a translated text {{{', '.join(f'{lang}: ...' for lang in self.languages)}}}")
            return {}
        out: dict[str, str] = {}
        for lang in value:
            if lang not in self.languages:
                self.err(file, _p(path, lang), f"'{lang}' is not a language of this pack")
        for lang in self.languages:
            text = value.get(lang)
            if text is None or (isinstance(text, str) and not text.strip()):
                self.err(file, path, f"missing '{lang}' translation")
            elif not isinstance(text, str):
                self.err(file, _p(path, lang), "must be text")
            else:
                out[lang] = text.strip()
        return out

    def unique(self, file: str, items: list[tuple[str, str | None]], what: str) -> None:
        seen: dict[str, str] = {}
        for path, code in items:
            if code is None:
                continue
            if code in seen:
                first = self.sources[file].line(seen[code])
                self.err(file, _p(path, "code"), f"duplicate {what} code '{code}' (first at line {first})")
            else:
                seen[code] = path

    def number(self, file: str, path: str, value: Any, kind: type, low: float | None, high: float | None) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float) or (kind is int and not isinstance(value, int)):
            self.err(file, path, f"must be {'a whole number' if kind is int else 'a number'}, got {value!r}")
            return None
        if (low is not None and value < low) or (high is not None and value > high):
            if low is None:
                bound = f"at most {high:g}"
            elif high is None:
                bound = f"at least {low:g}"
            else:
                bound = f"between {low:g} and {high:g}"
            self.err(file, path, f"must be {bound}, got {value}")
            return None
        return value

    # -- files -------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        if not self.folder.is_dir():
            self.errors.append(PackError(str(self.folder), 1, "", "not a pack folder"))
            return {}
        for name in FILES:
            self.sources[name] = read_yaml(self.folder / name, self.errors)
            source = self.sources[name]
            if source.missing:
                self.errors.append(PackError(name, 1, "", "file is missing from the pack"))
            elif source.data is not None and not isinstance(source.data, dict):
                self.err(name, "", "the file must hold a mapping at the top")
                source.data = {}
            elif isinstance(source.data, dict) and (sections := FILES[name]):
                for key in source.data:
                    if key not in sections:
                        self.err(name, key, f"unknown section '{key}' (expected: {', '.join(sections)})")
        data: dict[str, Any] = {}
        data["country"] = self.country()
        data["agencies"] = self.agencies()
        data["service_groups"] = self.groups()
        data["priority_groups"] = self.priority_groups()
        data["services"] = self.services(data)
        data["centres"] = self.centres(data)
        data["rules"] = self.rules()
        return data

    def country(self) -> dict[str, Any]:
        f = "pack.yaml"
        src = self.sources[f]
        top = src.data if isinstance(src.data, dict) else {}
        if src.missing or src.data is None:
            return {}
        self.unknown_fields(f, "", top, {"code", "name", "languages", "currency", "currency_decimals", "time_zone",
                                          "weekend", "holidays", "national_id", "phone_region"})
        out: dict[str, Any] = {}
        code = self.required(f, "", top, "code")
        if code is not None:
            if not isinstance(code, str) or not re.fullmatch(r"[a-z]{2}", code):
                self.err(f, "code", f"pack code must be two lower-case letters, got {code!r}")
            out["code"] = code
        languages = self.required(f, "", top, "languages")
        langs: list[dict[str, Any]] = []
        if languages is not None:
            if not isinstance(languages, list) or not languages:
                self.err(f, "languages", "must be a non-empty list of {code, name, rtl}")
            else:
                for i, lang in enumerate(languages):
                    path = f"languages[{i}]"
                    if self.mapping(f, path, lang) is None:
                        continue
                    self.unknown_fields(f, path, lang, {"code", "name", "rtl"})
                    lcode = self.required(f, path, lang, "code")
                    lname = self.required(f, path, lang, "name")
                    rtl = lang.get("rtl", False)
                    if lcode is not None and (not isinstance(lcode, str) or not LANG_RE.match(lcode)):
                        self.err(f, _p(path, "code"), f"invalid language code {lcode!r}")
                        continue
                    if not isinstance(rtl, bool):
                        self.err(f, _p(path, "rtl"), "must be true or false")
                        rtl = False
                    if lcode in [x["code"] for x in langs]:
                        self.err(f, _p(path, "code"), f"language '{lcode}' is listed twice")
                        continue
                    if lcode and lname:
                        langs.append({"code": lcode, "name": str(lname), "rtl": rtl})
        self.languages = [x["code"] for x in langs]
        out["languages"] = langs
        out["name"] = self.text(f, "name", top.get("name"))
        currency = self.required(f, "", top, "currency")
        if currency is not None:
            if not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency):
                self.err(f, "currency", f"must be an ISO 4217 code such as AZN, got {currency!r}")
            else:
                self.currency = currency
        out["currency"] = self.currency
        decimals = top.get("currency_decimals", 2)
        if self.number(f, "currency_decimals", decimals, int, 0, 4) is not None:
            self.decimals = decimals
        out["currency_decimals"] = self.decimals
        tz = self.required(f, "", top, "time_zone")
        out["time_zone"] = self.zone(f, "time_zone", tz) if tz is not None else ""
        weekend = top.get("weekend", [])
        if not isinstance(weekend, list):
            self.err(f, "weekend", "must be a list of weekdays such as [sat, sun]")
            weekend = []
        for i, day in enumerate(weekend):
            if day not in WEEKDAYS:
                self.err(f, f"weekend[{i}]", f"unknown weekday {day!r} (use {' '.join(WEEKDAYS)})")
        out["weekend"] = [d for d in weekend if d in WEEKDAYS]
        out["holidays"] = self.holidays(f, top.get("holidays"))
        out["national_id"] = self.national_id(f, top.get("national_id"))
        region = self.required(f, "", top, "phone_region")
        if region is not None:
            import phonenumbers

            if str(region).upper() not in phonenumbers.SUPPORTED_REGIONS:
                self.err(f, "phone_region", f"unknown phone region {region!r}")
            out["phone_region"] = str(region).upper()
        return out

    def zone(self, f: str, path: str, value: Any) -> str:
        try:
            zoneinfo.ZoneInfo(str(value))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            self.err(f, path, f"unknown time zone {value!r}")
            return ""
        return str(value)

    def holidays(self, f: str, value: Any) -> dict[str, Any]:
        if value is None:
            self.err(f, "holidays", "required section is missing")
            return {}
        if self.mapping(f, "holidays", value) is None:
            return {}
        self.unknown_fields(f, "holidays", value, {"country", "closures"})
        country = self.required(f, "holidays", value, "country")
        out: dict[str, Any] = {"country": "", "closures": []}
        if country is not None:
            if not isinstance(country, str) or not holiday_country_supported(country):
                self.err(f, "holidays.country", f"unknown holidays country {country!r}")
            else:
                out["country"] = country.upper()
        closures = value.get("closures") or []
        if not isinstance(closures, list):
            self.err(f, "holidays.closures", "must be a list of {date, name}")
            closures = []
        seen: set[date] = set()
        for i, closure in enumerate(closures):
            path = f"holidays.closures[{i}]"
            if self.mapping(f, path, closure) is None:
                continue
            self.unknown_fields(f, path, closure, {"date", "name", "centres"})
            day = self.date(f, _p(path, "date"), self.required(f, path, closure, "date"))
            name = self.text(f, _p(path, "name"), closure.get("name"))
            centres = closure.get("centres") or []
            if not isinstance(centres, list):
                self.err(f, _p(path, "centres"), "must be a list of centre codes")
                centres = []
            if day in seen:
                self.err(f, _p(path, "date"), f"closure on {day} is listed twice")
            if day:
                seen.add(day)
                out["closures"].append({"date": day, "name": name, "centres": list(centres),
                                        "_path": path})
        return out

    def date(self, f: str, path: str, value: Any) -> date | None:
        if value is None:
            return None
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.err(f, path, f"must be a date YYYY-MM-DD, got {value!r}")
            return None

    def national_id(self, f: str, value: Any) -> dict[str, Any]:
        if value is None:
            self.err(f, "national_id", "required section is missing")
            return {}
        if self.mapping(f, "national_id", value) is None:
            return {}
        self.unknown_fields(f, "national_id", value, {"label", "stdnum", "pattern", "check", "example"})
        out: dict[str, Any] = {"label": self.text(f, "national_id.label", value.get("label"))}
        stdnum_name, pattern, check = value.get("stdnum"), value.get("pattern"), value.get("check")
        if stdnum_name:
            try:
                module = import_module(f"stdnum.{stdnum_name}")
                if not hasattr(module, "is_valid"):
                    raise ImportError
            except ImportError:
                self.err(f, "national_id.stdnum", f"unknown python-stdnum validator {stdnum_name!r}")
            else:
                out["stdnum"] = stdnum_name
        elif not pattern:
            self.err(f, "national_id", "needs a python-stdnum validator ('stdnum') or a 'pattern'")
        if pattern:
            try:
                re.compile(str(pattern))
            except re.error as exc:
                self.err(f, "national_id.pattern", f"invalid regular expression: {exc}")
            else:
                out["pattern"] = str(pattern)
        if check:
            if check not in CHECK_RULES:
                self.err(f, "national_id.check", f"unknown check rule {check!r} (use {', '.join(sorted(CHECK_RULES))})")
            else:
                out["check"] = check
        example = self.required(f, "national_id", value, "example")
        if example is not None and not self.errors_at(f, "national_id"):
            from .national_id import NationalIdFormat

            fmt = NationalIdFormat.from_pack(out)
            if not fmt.is_valid(str(example)):
                self.err(f, "national_id.example", f"example {example!r} is not valid in this format")
            out["example"] = str(example)
        return out

    def errors_at(self, f: str, prefix: str) -> bool:
        return any(e.file == f and e.path.startswith(prefix) for e in self.errors)

    def agencies(self) -> list[dict[str, Any]]:
        f = "agencies.yaml"
        out = []
        codes = []
        for i, item in enumerate(self.section(f, "agencies")):
            path = f"agencies[{i}]"
            if self.mapping(f, path, item) is None:
                continue
            self.unknown_fields(f, path, item, {"code", "name", "website", "auxiliary"})
            code = self.code(f, path, item)
            codes.append((path, code))
            aux = item.get("auxiliary", False)
            if not isinstance(aux, bool):
                self.err(f, _p(path, "auxiliary"), "must be true or false")
            website = item.get("website") or ""
            if website and not re.match(r"^https?://\S+$", str(website)):
                self.err(f, _p(path, "website"), f"must be an http(s) address, got {website!r}")
            out.append({"code": code, "name": self.text(f, _p(path, "name"), item.get("name")),
                        "website": str(website), "auxiliary": bool(aux), "_path": path})
        self.unique(f, codes, "agency")
        return out

    def groups(self) -> list[dict[str, Any]]:
        f = "services.yaml"
        out = []
        codes = []
        prefixes: dict[str, str | None] = {}
        for i, item in enumerate(self.section(f, "service_groups")):
            path = f"service_groups[{i}]"
            if self.mapping(f, path, item) is None:
                continue
            self.unknown_fields(f, path, item, {"code", "prefix", "name"})
            code = self.code(f, path, item)
            codes.append((path, code))
            prefix = self.required(f, path, item, "prefix")
            if prefix is not None:
                if not isinstance(prefix, str) or not re.fullmatch(r"[A-Z]", prefix):
                    self.err(f, _p(path, "prefix"), f"prefix must be one capital letter A-Z, got {prefix!r}")
                elif prefix in prefixes:
                    self.err(f, _p(path, "prefix"),
                             f"prefix '{prefix}' is already used by service group '{prefixes[prefix]}'")
                else:
                    prefixes[prefix] = code
            out.append({"code": code, "prefix": prefix, "name": self.text(f, _p(path, "name"), item.get("name")),
                        "_path": path})
        self.unique(f, codes, "service group")
        return out

    def priority_groups(self) -> list[dict[str, Any]]:
        f = "priority_groups.yaml"
        out, codes = [], []
        for i, item in enumerate(self.section(f, "priority_groups")):
            path = f"priority_groups[{i}]"
            if self.mapping(f, path, item) is None:
                continue
            self.unknown_fields(f, path, item, {"code", "name", "proof"})
            code = self.code(f, path, item)
            codes.append((path, code))
            out.append({"code": code, "name": self.text(f, _p(path, "name"), item.get("name")),
                        "proof": self.text(f, _p(path, "proof"), item.get("proof")), "_path": path})
        self.unique(f, codes, "priority group")
        return out

    def services(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        f = "services.yaml"
        agencies = {a["code"] for a in data["agencies"] if a["code"]}
        groups = {g["code"] for g in data["service_groups"] if g["code"]}
        out, codes = [], []
        for i, item in enumerate(self.section(f, "services")):
            path = f"services[{i}]"
            if self.mapping(f, path, item) is None:
                continue
            self.unknown_fields(f, path, item, {"code", "agency", "group", "name", "description", "documents",
                                                "tiers", "channels", "handling_minutes"})
            code = self.code(f, path, item)
            codes.append((path, code))
            agency = self.required(f, path, item, "agency")
            if agency is not None and agency not in agencies:
                self.err(f, _p(path, "agency"), f"unknown agency '{agency}'")
            group = self.required(f, path, item, "group")
            if group is not None and group not in groups:
                self.err(f, _p(path, "group"), f"unknown service group '{group}'")
            documents = item.get("documents") or []
            if not isinstance(documents, list):
                self.err(f, _p(path, "documents"), "must be a list of translated texts")
                documents = []
            docs = [self.text(f, f"{path}.documents[{j}]", doc) for j, doc in enumerate(documents)]
            channels = item.get("channels")
            if channels is None:
                self.err(f, _p(path, "channels"), "required field is missing")
                channels = []
            elif not isinstance(channels, list) or not channels:
                self.err(f, _p(path, "channels"), "must be a non-empty list of hall, online, mobile")
                channels = []
            for j, channel in enumerate(channels):
                if channel not in CHANNELS:
                    self.err(f, f"{path}.channels[{j}]", f"unknown channel {channel!r} (use hall, online, mobile)")
            handling = self.required(f, path, item, "handling_minutes")
            if handling is not None:
                handling = self.number(f, _p(path, "handling_minutes"), handling, float, None, 480)
                if handling is not None and handling <= 0:
                    self.err(f, _p(path, "handling_minutes"), f"must be more than 0 minutes, got {handling}")
            out.append({
                "code": code, "agency": agency, "group": group,
                "name": self.text(f, _p(path, "name"), item.get("name")),
                "description": self.text(f, _p(path, "description"), item.get("description")),
                "documents": docs, "tiers": self.tiers(f, path, item.get("tiers")),
                "channels": [c for c in channels if c in CHANNELS],
                "handling_minutes": Decimal(str(handling)) if handling else None, "_path": path,
            })
        self.unique(f, codes, "service")
        return out

    def tiers(self, f: str, path: str, tiers: Any) -> list[dict[str, Any]]:
        if tiers is None:
            self.err(f, _p(path, "tiers"), "required field is missing")
            return []
        if not isinstance(tiers, list) or not tiers:
            self.err(f, _p(path, "tiers"), "a service needs at least one tier")
            return []
        out, codes = [], []
        for i, tier in enumerate(tiers):
            tpath = f"{path}.tiers[{i}]"
            if self.mapping(f, tpath, tier) is None:
                continue
            self.unknown_fields(f, tpath, tier, {"code", "name", "fee", "term_days", "same_day"})
            code = self.code(f, tpath, tier)
            codes.append((tpath, code))
            fee = None
            if "fee" not in tier:
                self.err(f, _p(tpath, "fee"), "required field is missing")
            else:
                try:
                    fee = parse_amount(tier["fee"], self.currency or "?", self.decimals)
                except MoneyError as exc:
                    self.err(f, _p(tpath, "fee"), str(exc))
            same_day = tier.get("same_day", False)
            term = tier.get("term_days")
            if not isinstance(same_day, bool):
                self.err(f, _p(tpath, "same_day"), "must be true or false")
                same_day = False
            if same_day and term is not None:
                self.err(f, tpath, "a tier has either term_days or same_day: true, not both")
            elif not same_day and term is None:
                self.err(f, tpath, "tier has no term: give term_days (working days) or same_day: true")
            elif term is not None:
                term = self.number(f, _p(tpath, "term_days"), term, int, 1, 3650)
            out.append({"code": code, "name": self.text(f, _p(tpath, "name"), tier.get("name")), "fee": fee,
                        "term_days": None if same_day else term, "same_day": same_day})
        seen: dict[str, str] = {}
        for tpath, code in codes:
            if code in seen:
                self.err(f, _p(tpath, "code"), f"duplicate tier code '{code}' in this service")
            elif code:
                seen[code] = tpath
        return out

    def centres(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        f = "centres.yaml"
        groups = {g["code"] for g in data["service_groups"] if g["code"]}
        out, codes = [], []
        for i, item in enumerate(self.section(f, "centres")):
            path = f"centres[{i}]"
            if self.mapping(f, path, item) is None:
                continue
            self.unknown_fields(f, path, item, {"code", "kind", "name", "address", "time_zone", "hours",
                                                "remote_join", "counters", "route"})
            code = self.code(f, path, item)
            codes.append((path, code))
            kind = item.get("kind", "fixed")
            if kind not in {"fixed", "mobile"}:
                self.err(f, _p(path, "kind"), f"kind must be fixed or mobile, got {kind!r}")
                kind = "fixed"
            tz = self.zone(f, _p(path, "time_zone"), item["time_zone"]) if item.get("time_zone") else ""
            remote = item.get("remote_join", False)
            if not isinstance(remote, bool):
                self.err(f, _p(path, "remote_join"), "must be true or false")
                remote = False
            hours = self.hours(f, _p(path, "hours"), item.get("hours"), required=kind == "fixed")
            route = self.route(f, _p(path, "route"), item.get("route"), kind)
            counters = self.counters(f, path, item.get("counters"), groups)
            out.append({"code": code, "kind": kind, "name": self.text(f, _p(path, "name"), item.get("name")),
                        "address": self.text(f, _p(path, "address"), item.get("address")),
                        "time_zone": tz, "hours": hours, "remote_join": remote, "route": route,
                        "counters": counters, "_path": path})
        self.unique(f, codes, "centre")
        centre_codes = {c["code"] for c in out}
        for closure in data["country"].get("holidays", {}).get("closures", []):
            for j, ccode in enumerate(closure["centres"]):
                if ccode not in centre_codes:
                    self.err("pack.yaml", f"{closure['_path']}.centres[{j}]", f"unknown centre '{ccode}'")
        return out

    def interval(self, f: str, path: str, value: Any) -> tuple[time, time] | None:
        match = INTERVAL_RE.match(str(value)) if isinstance(value, str) else None
        if not match:
            self.err(f, path, f"must be an interval \"HH:MM-HH:MM\", got {value!r}")
            return None
        try:
            start, end = time.fromisoformat(match.group(1)), time.fromisoformat(match.group(2))
        except ValueError:
            self.err(f, path, f"invalid time in {value!r}")
            return None
        if end <= start:
            self.err(f, path, f"interval {value} ends before it starts")
            return None
        return start, end

    def hours(self, f: str, path: str, value: Any, *, required: bool) -> dict[str, list[str]]:
        if value is None:
            if required:
                self.err(f, path, "opening hours are missing")
            return {}
        if not isinstance(value, dict):
            self.err(f, path, "must map weekdays (mon..sun) to lists of \"HH:MM-HH:MM\"")
            return {}
        out: dict[str, list[str]] = {}
        for day, intervals in value.items():
            dpath = _p(path, day)
            if day not in WEEKDAYS:
                self.err(f, dpath, f"unknown weekday {day!r} (use {' '.join(WEEKDAYS)})")
                continue
            if intervals is None:
                continue
            if isinstance(intervals, str):
                intervals = [intervals]
            if not isinstance(intervals, list):
                self.err(f, dpath, "must be a list of \"HH:MM-HH:MM\"")
                continue
            parsed: list[tuple[time, time, str]] = []
            for j, raw in enumerate(intervals):
                span = self.interval(f, f"{dpath}[{j}]", raw)
                if span is None:
                    continue
                for other in parsed:
                    if span[0] < other[1] and other[0] < span[1]:
                        self.err(f, f"{dpath}[{j}]", f"opening hours {raw} overlap {other[2]} on {day}")
                        break
                else:
                    parsed.append((span[0], span[1], str(raw)))
            parsed.sort()
            out[day] = [f"{a.strftime('%H:%M')}-{b.strftime('%H:%M')}" for a, b, _ in parsed]
        return {d: out[d] for d in WEEKDAYS if d in out}

    def route(self, f: str, path: str, value: Any, kind: str) -> list[dict[str, Any]]:
        if kind == "fixed":
            if value:
                self.err(f, path, "only a mobile unit has a route")
            return []
        if not value:
            self.err(f, path, "a mobile unit needs a route of dated stops")
            return []
        if not isinstance(value, list):
            self.err(f, path, "must be a list of {date, place, hours}")
            return []
        out = []
        seen: dict[date, str] = {}
        for i, stop in enumerate(value):
            spath = f"{path}[{i}]"
            if self.mapping(f, spath, stop) is None:
                continue
            self.unknown_fields(f, spath, stop, {"date", "place", "hours"})
            day = self.date(f, _p(spath, "date"), self.required(f, spath, stop, "date"))
            hours = self.required(f, spath, stop, "hours")
            span = self.interval(f, _p(spath, "hours"), hours) if hours is not None else None
            if day in seen:
                self.err(f, _p(spath, "date"), f"the route already stops on {day} (line {self.sources[f].line(seen[day])})")
                continue
            if day:
                seen[day] = spath
            if day and span:
                out.append({"date": day, "place": self.text(f, _p(spath, "place"), stop.get("place")),
                            "hours": f"{span[0].strftime('%H:%M')}-{span[1].strftime('%H:%M')}"})
        return sorted(out, key=lambda s: s["date"])

    def counters(self, f: str, path: str, value: Any, groups: set[str]) -> list[dict[str, Any]]:
        cpath = _p(path, "counters")
        if not value:
            self.err(f, cpath, "a centre needs at least one counter")
            return []
        if not isinstance(value, list):
            self.err(f, cpath, "must be a list of counters")
            return []
        out, numbers = [], {}
        for i, counter in enumerate(value):
            kpath = f"{cpath}[{i}]"
            if self.mapping(f, kpath, counter) is None:
                continue
            self.unknown_fields(f, kpath, counter, {"number", "zone", "groups"})
            number = self.required(f, kpath, counter, "number")
            if number is not None:
                number = self.number(f, _p(kpath, "number"), number, int, 1, 9999)
                if number in numbers:
                    self.err(f, _p(kpath, "number"), f"counter number {number} is already used in this centre")
                elif number is not None:
                    numbers[number] = kpath
            links = counter.get("groups")
            parsed_links = []
            if not links:
                self.err(f, _p(kpath, "groups") if "groups" in counter else kpath, "counter has no service groups")
            elif not isinstance(links, list):
                self.err(f, _p(kpath, "groups"), "must be a list of {group, priority}")
            else:
                seen_groups = set()
                for j, link in enumerate(links):
                    lpath = f"{kpath}.groups[{j}]"
                    if isinstance(link, str):
                        link = {"group": link, "priority": 1}
                    if self.mapping(f, lpath, link) is None:
                        continue
                    self.unknown_fields(f, lpath, link, {"group", "priority"})
                    group = link.get("group")
                    priority = self.number(f, _p(lpath, "priority"), link.get("priority", 1), int, 1, 9)
                    if group not in groups:
                        self.err(f, lpath, f"unknown service group {group!r}".replace('"', "'"))
                    elif group in seen_groups:
                        self.err(f, lpath, f"service group '{group}' is listed twice for this counter")
                    elif priority is not None:
                        seen_groups.add(group)
                        parsed_links.append({"group": group, "priority": priority})
            zone = counter.get("zone", "")
            out.append({"number": number, "zone": "" if zone is None else str(zone), "groups": parsed_links})
        return out

    def rules(self) -> dict[str, Any]:
        f = "rules.yaml"
        out: dict[str, Any] = {}
        for section, fields_ in RULE_FIELDS.items():
            values = self.section(f, section, dict)
            parsed: dict[str, Any] = {}
            for key, raw in values.items():
                if key == "late_policy" and section == "booking":
                    if raw not in LATE_POLICIES:
                        self.err(f, f"{section}.{key}", f"must be walk_in or refuse, got {raw!r}")
                    else:
                        parsed[key] = raw
                    continue
                if key not in fields_:
                    self.err(f, f"{section}.{key}", f"unknown rule '{key}'")
                    continue
                kind, low, high = fields_[key]
                value = self.number(f, f"{section}.{key}", raw, kind, low, high)
                if value is not None:
                    parsed[key] = value
            out[section] = parsed
        return out


def _p(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def validate_pack(folder: Path | str) -> PackReport:
    validator = _Validator(Path(folder))
    data = validator.run()
    report = PackReport(folder=Path(folder), data=data, errors=sorted(set(validator.errors),
                                                                        key=lambda e: (e.file, e.line, e.path)))
    return report
