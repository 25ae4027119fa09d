import datetime as dt
import unittest

import support
from support import ts
from lakelib import partitions


class DtTest(unittest.TestCase):
    def test_dt_of(self):
        self.assertEqual(partitions.dt_of(ts(2024, 5, 1, 23, 59, 59)), "2024-05-01")
        self.assertEqual(partitions.dt_of(dt.datetime(2024, 5, 1, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-2)))),
                         "2024-05-02")
        self.assertEqual(partitions.dt_of(dt.date(2024, 2, 29)), "2024-02-29")
        with self.assertRaises(ValueError):
            partitions.dt_of("2024-05-01")

    def test_dt_of_record(self):
        spec = support.dataset("clickstream")
        self.assertEqual(partitions.dt_of_record({"event_time": ts(2024, 1, 31, 5)}, spec), "2024-01-31")

    def test_parse_dt(self):
        self.assertEqual(partitions.parse_dt("2024-05-01"), dt.date(2024, 5, 1))
        for bad in ("2024-5-1", "2024-02-30", "20240501", None):
            with self.assertRaises(ValueError):
                partitions.parse_dt(bad)


class PathTest(unittest.TestCase):
    def test_partition_path(self):
        self.assertEqual(partitions.partition_path("s3://p/clickstream/", "2024-05-01"),
                         "s3://p/clickstream/dt=2024-05-01/")
        self.assertEqual(partitions.partition_path("s3://p/_quarantine/clickstream", "2024-05-01"),
                         "s3://p/_quarantine/clickstream/dt=2024-05-01/")
        with self.assertRaises(ValueError):
            partitions.partition_path("s3://p/x/", "May 1")

    def test_dataset_path(self):
        self.assertEqual(partitions.dataset_path("s3://c", "orders_daily"), "s3://c/orders_daily/")
        self.assertEqual(partitions.dataset_path("s3://c/", "customer_activity"), "s3://c/customer_activity/")


class LookbackTest(unittest.TestCase):
    def test_lookback_start(self):
        self.assertEqual(partitions.lookback_start(dt.date(2024, 3, 2), 3), "2024-02-28")
        self.assertEqual(partitions.lookback_start(dt.date(2024, 3, 2), 0), "2024-03-02")
        with self.assertRaises(ValueError):
            partitions.lookback_start(dt.date(2024, 3, 2), -1)

    def test_today(self):
        late_evening_west = dt.datetime(2024, 5, 1, 20, tzinfo=dt.timezone(dt.timedelta(hours=-7)))
        self.assertEqual(partitions.today_utc(late_evening_west), dt.date(2024, 5, 2))


if __name__ == "__main__":
    unittest.main()
