"""Scope checks: staff see only the centres and agencies they work for.

Every view, API endpoint and admin page that shows centre or agency data asks here.
National administrators and auditors see the whole network.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from .models import Role


def is_staff_member(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and (user.is_superuser or bool(user.role))


def centres_for(user) -> QuerySet:
    from onestop.centres.models import Centre

    if not is_staff_member(user):
        return Centre.objects.none()
    if user.is_national:
        return Centre.objects.all()
    if user.role == Role.AGENCY_ADMIN or user.role == Role.OFFICER:
        # Agency staff see the centres where their agency's services are offered: all of them.
        return Centre.objects.all()
    return Centre.objects.filter(pk__in=user.centres.values("pk"))


def agencies_for(user) -> QuerySet:
    from onestop.catalogue.models import Agency

    if not is_staff_member(user):
        return Agency.objects.none()
    if user.is_national:
        return Agency.objects.all()
    if user.role in {Role.AGENCY_ADMIN, Role.OFFICER}:
        return Agency.objects.filter(pk__in=user.agencies.values("pk"))
    return Agency.objects.none()


def can_see_centre(user, centre) -> bool:
    return centres_for(user).filter(pk=centre.pk).exists()


def can_manage_centre(user, centre) -> bool:
    if not is_staff_member(user):
        return False
    if user.is_superuser or user.role == Role.NATIONAL_ADMIN:
        return True
    return user.role == Role.CENTRE_MANAGER and user.centres.filter(pk=centre.pk).exists()


def require_centre(user, centre, *, manage: bool = False) -> None:
    allowed = can_manage_centre(user, centre) if manage else can_see_centre(user, centre)
    if not allowed:
        raise PermissionDenied("This centre is outside your scope.")


def can_manage_agency(user, agency) -> bool:
    if not is_staff_member(user):
        return False
    if user.is_superuser or user.role == Role.NATIONAL_ADMIN:
        return True
    return user.role == Role.AGENCY_ADMIN and user.agencies.filter(pk=agency.pk).exists()
