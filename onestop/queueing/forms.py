"""Forms of the hall screens. They only parse and check input; the services decide."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _

from onestop.catalogue.models import PriorityGroup, Service, ServiceGroup
from onestop.centres.models import Centre, Counter
from onestop.core.models import translate

# --------------------------------------------------------------------------- what a centre offers


def offered_groups(centre: Centre) -> list[ServiceGroup]:
    """Service groups that at least one counter of the centre serves, in pack order."""
    return list(
        ServiceGroup.objects.filter(
            country_id=centre.country_id, archived_at__isnull=True,
            counter_links__counter__centre=centre, counter_links__counter__archived_at__isnull=True,
        ).distinct().order_by("position", "code"))


def offered_services(centre: Centre, group: ServiceGroup | None = None) -> list[Service]:
    """Services a citizen can queue for in this centre (the hall or the mobile unit channel)."""
    groups = [group] if group is not None else offered_groups(centre)
    channel = "mobile" if centre.kind == "mobile" else "hall"
    qs = (Service.objects.filter(country_id=centre.country_id, archived_at__isnull=True, group__in=groups)
          .select_related("group").order_by("group__position", "group__code", "position", "code"))
    return [s for s in qs if not s.channels or channel in s.channels]


def counter_services(counter: Counter) -> list[Service]:
    """Services of the groups a counter serves (what an operator can record or serve there)."""
    groups = [link.group for link in counter.group_links.select_related("group").order_by("priority")]
    qs = (Service.objects.filter(country_id=counter.centre.country_id, archived_at__isnull=True, group__in=groups)
          .select_related("group").order_by("group__position", "group__code", "position", "code"))
    return list(qs)


def _service_label(service: Service) -> str:
    return f"{service.group.prefix} · {translate(service.name) or service.code}"


def _grouped_service_choices(services: list[Service]) -> list:
    """Choices for a ``<select>`` with one ``<optgroup>`` per service group."""
    out: dict[int, tuple[str, list]] = {}
    for service in services:
        label = f"{service.group.prefix} · {translate(service.group.name) or service.group.code}"
        out.setdefault(service.group_id, (label, []))[1].append((service.code, translate(service.name)
                                                                or service.code))
    return [("", "—")] + [(label, items) for label, items in out.values()]


class _ServiceCodeField(forms.ChoiceField):
    """A service chosen by code among a fixed list; cleans to the Service."""

    def __init__(self, *args, services: list[Service] | None = None, grouped: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_services(services or [], grouped=grouped)

    def set_services(self, services: list[Service], *, grouped: bool = True) -> None:
        self.services = {s.code: s for s in services}
        if grouped:
            self.choices = _grouped_service_choices(services)
        else:
            self.choices = [(s.code, _service_label(s)) for s in services]

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        return self.services[value]


def _priority_choices(country_id: int) -> tuple[dict[str, PriorityGroup], list]:
    groups = list(PriorityGroup.objects.filter(country_id=country_id, archived_at__isnull=True))
    return {g.code: g for g in groups}, [("", _("No priority"))] + [(g.code, translate(g.name) or g.code)
                                                                   for g in groups]


class _PriorityMixin:
    # Provided by the forms.Form this mixin is combined with.
    fields: dict[str, forms.Field]
    cleaned_data: dict[str, Any]

    def _set_priorities(self, country_id: int) -> None:
        self.priority_groups, choices = _priority_choices(country_id)
        cast(forms.ChoiceField, self.fields["priority_group"]).choices = choices

    def clean_priority_group(self):
        code = self.cleaned_data.get("priority_group")
        return self.priority_groups.get(code) if code else None


PHONE_ATTRS = {"inputmode": "tel", "autocomplete": "tel", "dir": "ltr", "placeholder": "+994 50 123 45 67"}

# --------------------------------------------------------------------------- kiosk, reception


class KioskTicketForm(_PriorityMixin, forms.Form):
    service = _ServiceCodeField(label=_("Service"))
    priority_group = forms.ChoiceField(label=_("Priority"), required=False, widget=forms.RadioSelect)
    phone = forms.CharField(label=_("Phone number for an SMS (optional)"), max_length=32, required=False,
                            widget=forms.TextInput(attrs=PHONE_ATTRS))

    def __init__(self, *args, centre: Centre, **kwargs):
        super().__init__(*args, **kwargs)
        self.centre = centre
        cast(_ServiceCodeField, self.fields["service"]).set_services(offered_services(centre), grouped=False)
        self._set_priorities(centre.country_id)
        self.fields["phone"].widget.attrs["placeholder"] = ""


class ReceptionTicketForm(_PriorityMixin, forms.Form):
    service = _ServiceCodeField(label=_("Service"))
    priority_group = forms.ChoiceField(label=_("Priority group"), required=False)
    phone = forms.CharField(label=_("Phone number for SMS (optional)"), max_length=32, required=False,
                            widget=forms.TextInput(attrs=PHONE_ATTRS))
    language = forms.ChoiceField(label=_("Language of the SMS"), required=False)

    def __init__(self, *args, centre: Centre, **kwargs):
        super().__init__(*args, **kwargs)
        self.centre = centre
        cast(_ServiceCodeField, self.fields["service"]).set_services(offered_services(centre))
        self._set_priorities(centre.country_id)
        cast(forms.ChoiceField, self.fields["language"]).choices = [
            (lang["code"], lang["name"]) for lang in centre.country.languages]
        self.fields["phone"].widget.attrs["placeholder"] = ""


# --------------------------------------------------------------------------- remote join


class RemoteJoinForm(forms.Form):
    centre = forms.ChoiceField(label=_("Centre"))
    service = _ServiceCodeField(label=_("Service"))
    phone = forms.CharField(label=_("Mobile phone number"), max_length=32,
                            widget=forms.TextInput(attrs=PHONE_ATTRS))
    code = forms.CharField(label=_("Code from the SMS"), max_length=12, required=False,
                           widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code",
                                                         "dir": "ltr"}))

    def __init__(self, *args, centres: list[Centre], **kwargs):
        super().__init__(*args, **kwargs)
        self.centres = {c.code: c for c in centres}
        cast(forms.ChoiceField, self.fields["centre"]).choices = [("", "—")] + [
            (c.code, translate(c.name) or c.code) for c in centres]
        services: dict[str, Service] = {}
        for centre in centres:
            for service in offered_services(centre):
                services.setdefault(service.code, service)
        ordered = sorted(services.values(), key=lambda s: (s.group.position, s.group.code, s.position, s.code))
        cast(_ServiceCodeField, self.fields["service"]).set_services(ordered)
        self.fields["phone"].widget.attrs["placeholder"] = ""

    def clean_centre(self):
        return self.centres[self.cleaned_data["centre"]]

    def clean(self):
        data = super().clean()
        centre, service = data.get("centre"), data.get("service")
        if centre is not None and service is not None:
            if service.code not in {s.code for s in offered_services(centre)}:
                self.add_error("service", _("This centre does not offer this service. Choose another centre."))
        return data


# --------------------------------------------------------------------------- counter console


class BreakForm(forms.Form):
    reason = forms.CharField(label=_("Reason for the break"), max_length=120)


class WalkInForm(forms.Form):
    service = _ServiceCodeField(label=_("Service"))

    def __init__(self, *args, counter: Counter, **kwargs):
        super().__init__(*args, **kwargs)
        cast(_ServiceCodeField, self.fields["service"]).set_services(counter_services(counter))


class FinishForm(forms.Form):
    services = forms.MultipleChoiceField(label=_("Services done"), required=False,
                                         widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, counter: Counter, ticket=None, **kwargs):
        super().__init__(*args, **kwargs)
        services = counter_services(counter)
        if ticket is not None and ticket.service_id not in {s.pk for s in services}:
            services.insert(0, ticket.service)
        # Django's metaclass moves the declared `services` field off the class; mypy still sees it there.
        self.services = {s.code: s for s in services}  # type: ignore[assignment]
        cast(forms.ChoiceField, self.fields["services"]).choices = [(s.code, _service_label(s)) for s in services]
        if ticket is not None:
            self.fields["services"].initial = [ticket.service.code]

    def clean_services(self):
        return [self.services[code] for code in self.cleaned_data.get("services") or []]


class TransferForm(forms.Form):
    """One target: a service group's queue, a particular service, or a counter of the centre."""

    target = forms.ChoiceField(label=_("Send to"))

    def __init__(self, *args, counter: Counter, **kwargs):
        super().__init__(*args, **kwargs)
        centre = counter.centre
        self.groups = {g.code: g for g in offered_groups(centre)}
        self.services = {s.code: s for s in offered_services(centre)}
        self.counters = {str(c.number): c for c in
                         Counter.objects.filter(centre=centre, archived_at__isnull=True).exclude(pk=counter.pk)
                         .select_related("centre")}
        cast(forms.ChoiceField, self.fields["target"]).choices = [
            ("", "—"),
            (_("Service group"), [(f"group:{code}", f"{g.prefix} · {translate(g.name) or code}")
                                  for code, g in self.groups.items()]),
            (_("Service"), [(f"service:{code}", _service_label(s)) for code, s in self.services.items()]),
            (_("Counter"), [(f"counter:{number}", _("Counter %(number)s") % {"number": number})
                            for number in self.counters]),
        ]

    def clean_target(self) -> dict:
        kind, _sep, key = self.cleaned_data["target"].partition(":")
        tables: dict[str, Mapping[str, models.Model]] = {
            "group": self.groups, "service": self.services, "counter": self.counters}
        table = tables[kind]
        return {kind: table[key]}
