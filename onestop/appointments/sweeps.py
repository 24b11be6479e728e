"""Time-based sweeps of bookings.

Idempotent: a second run right after the first changes nothing.
"""

from onestop.core.sweeps import sweep

from .services import bookings_mark_no_shows, bookings_send_reminders


@sweep("appointments.no_shows", every_seconds=60)
def mark_no_shows() -> int:
    return bookings_mark_no_shows()


@sweep("appointments.reminders", every_seconds=300)
def send_reminders() -> int:
    return bookings_send_reminders()
