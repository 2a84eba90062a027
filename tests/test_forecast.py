"""The closing forecast (botram/domain/forecast.py) on constructed days whose answers are known by hand.

Times are minutes since midnight WIB: 8 * 60 is 08.00.
"""
from __future__ import annotations

import pytest

from botram.domain import forecast as fc

H = 60


def desk(number=1, per_hour=10.0, closes=16 * H, opens=8 * H, measured=20, state="open", share=1.0):
    return fc.DeskCapacity(number=number, opens=opens, closes=closes, per_hour=per_hour, measured=measured,
                           state=state, share=share)


def day(now=12 * H, waiting=10, arrivals=None, desks=None, pattern=None):
    # 30 arrivals in the last hour (one every two minutes), none before
    arrivals = arrivals if arrivals is not None else [now - 60 + 2 * i + 1 for i in range(30)]
    return fc.ServiceDay(now=now, opened=8 * H, waiting=waiting, arrivals=arrivals,
                         desks=desks if desks is not None else [desk(1), desk(2)], pattern=pattern)


def test_without_a_pattern_the_last_hours_pace_is_held_until_the_last_desk_closes():
    # 30 an hour for 4 more hours = 120; two desks at 10 an hour for 4 hours = 80; 10 waiting: 10 + 120 - 80
    result = fc.forecast(day())
    assert result.expected_arrivals == pytest.approx(120)
    assert result.capacity == pytest.approx(80)
    assert result.unserved == pytest.approx(50)
    assert result.low < 50 < result.high
    assert not result.used_pattern
    assert result.closes_hhmm == "16.00"


def test_a_past_pattern_scales_the_arrivals_so_far_by_what_is_still_to_come():
    # a quarter of a day's arrivals come 08-12, three quarters 12-16: 40 so far means 120 still to come
    pattern = {8: 0.0625, 9: 0.0625, 10: 0.0625, 11: 0.0625, 12: 0.1875, 13: 0.1875, 14: 0.1875, 15: 0.1875}
    arrivals = [8 * H + 6 * i for i in range(40)]
    result = fc.forecast(day(arrivals=arrivals, pattern=pattern, waiting=0))
    assert result.used_pattern
    assert result.expected_arrivals == pytest.approx(120)
    assert result.unserved == pytest.approx(40)  # 0 + 120 - 80


def test_the_range_is_narrower_with_a_pattern_than_with_the_pace_alone():
    pattern = {h: 1 / 8 for h in range(8, 16)}
    arrivals = [8 * H + 2 * i + 1 for i in range(120)]  # 30 an hour since 08.00, the same as the pace
    with_pattern = fc.forecast(day(arrivals=arrivals, pattern=pattern))
    pace_only = fc.forecast(day(arrivals=arrivals))
    assert with_pattern.unserved == pytest.approx(pace_only.unserved)
    assert with_pattern.high - with_pattern.low < pace_only.high - pace_only.low


def test_a_desk_measured_on_few_services_widens_the_range():
    sure = fc.forecast(day(desks=[desk(1, measured=40), desk(2, measured=40)]))
    unsure = fc.forecast(day(desks=[desk(1, measured=1), desk(2, measured=1)]))
    assert sure.unserved == pytest.approx(unsure.unserved)
    assert unsure.high - unsure.low > sure.high - sure.low


def test_a_paused_desk_counts_from_a_quarter_hour_after_now_and_a_shared_desk_by_its_share():
    assert desk(state="paused").capacity(12 * H) == pytest.approx(10 / 60 * (240 - 15))
    assert desk(share=0.25).capacity(12 * H) == pytest.approx(10)
    assert desk(opens=13 * H).capacity(12 * H) == pytest.approx(30)  # not open yet: from its opening
    assert desk(closes=11 * H).capacity(12 * H) == 0


def test_nobody_unserved_means_no_alert_and_no_fix():
    result = fc.forecast(day(waiting=0, arrivals=[], desks=[desk(1)]))
    assert result.unserved == 0 and result.low == 0 and not result.at_risk and result.fix is None
    assert result.high == 0


def test_the_fix_extends_the_desk_that_closes_last_by_half_hours_until_the_middle_estimate_is_covered():
    # no arrivals to come; 22 waiting, desk 2 closes at 16.00 and serves 10 an hour, desk 1 closed at 13.00
    desks = [desk(1, closes=13 * H), desk(2, closes=16 * H, per_hour=10)]
    result = fc.forecast(day(now=15 * H, waiting=22, arrivals=[], desks=desks))
    assert result.unserved == pytest.approx(12)  # 22 - 10 in the last hour
    # 12 people take 72 minutes, so three half hours, not two
    assert result.fix == fc.Fix("extend", desk_number=2, new_closes=17 * H + 30)
    assert result.fix.new_closes_hhmm == "17.30"


def test_more_than_two_hours_past_closing_asks_for_another_desk_instead():
    result = fc.forecast(day(now=15 * H, waiting=40, arrivals=[], desks=[desk(2, per_hour=10)]))
    assert result.unserved == pytest.approx(30)  # 3 hours of the one desk: too long
    assert result.fix == fc.Fix("add_desk")


def test_a_service_no_desk_offers_leaves_everyone_waiting_and_asks_for_a_desk():
    result = fc.forecast(day(waiting=7, desks=[]))
    assert result.closes is None and result.unserved == 7 and result.fix == fc.Fix("add_desk")


def test_an_extension_never_runs_past_midnight():
    result = fc.forecast(day(now=23 * H, waiting=5, arrivals=[], desks=[desk(1, closes=23 * H + 30, per_hour=6)]))
    assert result.fix == fc.Fix("add_desk")


def test_desk_shares_follow_what_each_service_still_needs():
    shares = fc.desk_shares({1: {10, 20}, 2: {20}}, {10: 30.0, 20: 10.0})
    assert shares[1, 10] == pytest.approx(0.75) and shares[1, 20] == pytest.approx(0.25)
    assert shares[2, 20] == 1.0
    assert fc.desk_shares({1: {10, 20}}, {})[1, 10] == 0.5


def test_a_desks_pace_is_measured_when_it_can_be_else_taken_from_the_target_minutes():
    assert fc.rate_per_hour([5, 10, 15], 20) == (pytest.approx(6.0), 3)
    assert fc.rate_per_hour([], 12) == (pytest.approx(5.0), 0)


def test_the_hourly_pattern_is_the_mean_share_of_each_past_day():
    pattern = fc.hourly_pattern([[8 * H, 8 * H + 5, 9 * H, 9 * H + 1], [9 * H + 30, 9 * H + 40], []])
    assert pattern == {8: pytest.approx(0.25), 9: pytest.approx(0.75)}
    assert fc.hourly_pattern([[]]) is None


def test_people_come_until_the_event_closes_so_an_extension_serves_the_backlog_it_was_offered_for():
    # without the event's closing, arrivals are counted until the desk closes (15.00): 3 hours at 30
    assert fc.forecast(day(waiting=0, desks=[desk(1, closes=15 * H, per_hour=30)])).expected_arrivals == \
        pytest.approx(90)
    # the event closes at 16.00: an hour of arrivals (30) comes after the desk has closed
    early = fc.forecast(fc.ServiceDay(**{**day(waiting=0, desks=[desk(1, closes=15 * H, per_hour=30)]).__dict__,
                                         "arrivals_until": 16 * H}))
    assert early.expected_arrivals == pytest.approx(120) and early.unserved == pytest.approx(30)
    assert early.fix == fc.Fix("extend", desk_number=1, new_closes=16 * H)
    # the fix applied: the same arrivals, an hour more of the desk, nobody left
    fixed = fc.forecast(fc.ServiceDay(**{**day(waiting=0, desks=[desk(1, closes=16 * H, per_hour=30)]).__dict__,
                                         "arrivals_until": 16 * H}))
    assert fixed.unserved == 0 and fixed.fix is None
    # kept open past the event's closing, it adds no arrivals, only capacity
    late = fc.forecast(fc.ServiceDay(**{**day(waiting=0, desks=[desk(1, closes=17 * H, per_hour=30)]).__dict__,
                                        "arrivals_until": 16 * H}))
    assert late.expected_arrivals == pytest.approx(120)
