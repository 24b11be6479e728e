from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from onestop.core import clock
from onestop.core.calendar import WorkingCalendar

AZ = WorkingCalendar.build("AZ", ["sat", "sun"])
AF = WorkingCalendar.build("AF", ["fri"])


def test_novruz_and_eid_2026_in_azerbaijan_are_skipped():
    # Wed 18 March 2026; Novruz and Ramadan Bayram close 20-27 and 30 March (with carry-overs).
    assert AZ.add_working_days(date(2026, 3, 18), 1) == date(2026, 3, 19)
    assert AZ.add_working_days(date(2026, 3, 18), 2) == date(2026, 3, 31)
    assert AZ.add_working_days(date(2026, 3, 18), 3) == date(2026, 4, 1)
    assert AZ.working_days_between(date(2026, 3, 19), date(2026, 3, 31)) == 1


def test_novruz_2025_in_azerbaijan():
    # 20-26 March 2025 are Novruz holidays (with observed days), 27-28 March are days off
    # moved from other dates, 31 March is Ramadan Bayram: Tuesday 1 April is the next working day.
    assert AZ.add_working_days(date(2025, 3, 19), 1) == date(2025, 4, 1)


def test_eid_al_adha_2026_in_afghanistan_with_friday_weekend():
    # Tue 26 May 2026; Eid al-Adha 27-29 May, Friday is the weekend, Saturday is a working day.
    assert AF.is_working_day(date(2026, 5, 30))  # Saturday
    assert not AF.is_working_day(date(2026, 5, 29))
    assert AF.add_working_days(date(2026, 5, 26), 1) == date(2026, 5, 30)
    assert AF.add_working_days(date(2026, 5, 26), 2) == date(2026, 5, 31)


def test_eid_al_fitr_2026_in_afghanistan():
    # Eid al-Fitr 20-22 March 2026 (Fri-Sun); Thursday 19 March + 1 = Monday 23 March.
    assert AF.add_working_days(date(2026, 3, 19), 1) == date(2026, 3, 23)


def test_deadline_that_would_land_on_a_weekend_moves_to_monday():
    assert AZ.add_working_days(date(2026, 11, 26), 2) == date(2026, 11, 30)
    assert AZ.add_working_days(date(2026, 11, 27), 1) == date(2026, 11, 30)


def test_same_day_on_a_weekend_is_the_next_working_day():
    assert AZ.add_working_days(date(2026, 11, 28), 0) == date(2026, 11, 30)
    assert AZ.add_working_days(date(2026, 11, 27), 0) == date(2026, 11, 27)


def test_pack_closures_are_not_working_days():
    cal = WorkingCalendar.build("AZ", ["sat", "sun"], [date(2026, 12, 30)])
    assert not cal.is_working_day(date(2026, 12, 30))
    # 30 Dec closure, 31 Dec Solidarity Day, 1 Jan, weekend, 4 Jan (New Year observed).
    assert cal.add_working_days(date(2026, 12, 29), 1) == date(2027, 1, 5)


def test_working_days_between_is_antisymmetric():
    assert AZ.working_days_between(date(2026, 11, 30), date(2026, 11, 23)) == -5


def test_negative_days_are_refused():
    with pytest.raises(ValueError):
        AZ.add_working_days(date(2026, 1, 5), -1)


def test_deadline_from_the_frozen_local_date_in_baku():
    # 23:30 UTC on Wed 18 March is already Thursday 19 March in Baku (UTC+4).
    with time_machine.travel(datetime(2026, 3, 18, 23, 30, tzinfo=ZoneInfo("UTC")), tick=False):
        today = clock.local_today("Asia/Baku")
        assert today == date(2026, 3, 19)
        assert AZ.add_working_days(today, 1) == date(2026, 3, 31)
