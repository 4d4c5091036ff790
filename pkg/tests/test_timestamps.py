"""``datetime`` <-> ``Timestamp``: the fast mapping gives what protobuf's own helper gives,
before 1970, for naive instants (UTC) and other offsets too, and maps back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from google.protobuf import timestamp_pb2

from pkg.timestamps import timestamp_from_proto, timestamp_to_proto

INSTANTS = [
    datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
    datetime(1970, 1, 1, tzinfo=UTC),
    datetime(1969, 12, 31, 23, 59, 59, 1, tzinfo=UTC),
    datetime(1901, 5, 6, 7, 8, 9, 999999, tzinfo=UTC),
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2025, 6, 1, 12, 0, 0, 5, tzinfo=timezone(timedelta(hours=-7, minutes=-30))),
    datetime(2025, 6, 1, 12, 0, 0, 5),
    datetime(1950, 6, 1, 12, 0, 0, 5),
]


@pytest.mark.parametrize("instant", INSTANTS)
def test_timestamps_are_what_protobuf_from_datetime_gives(instant: datetime) -> None:
    expected = timestamp_pb2.Timestamp()
    expected.FromDatetime(instant)
    assert timestamp_to_proto(instant) == expected


def test_an_instant_before_1970_has_negative_seconds_and_positive_nanos() -> None:
    stamp = timestamp_to_proto(datetime(1969, 12, 31, 23, 59, 59, 250000, tzinfo=UTC))
    assert (stamp.seconds, stamp.nanos) == (-1, 250_000_000)


@pytest.mark.parametrize("instant", INSTANTS)
def test_timestamps_map_back_to_the_same_aware_instant(instant: datetime) -> None:
    back = timestamp_from_proto(timestamp_to_proto(instant))
    assert back.tzinfo is UTC
    assert back == (instant if instant.tzinfo else instant.replace(tzinfo=UTC))
