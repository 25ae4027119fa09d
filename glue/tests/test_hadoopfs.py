import unittest

import support  # noqa: F401
from lakelib import hadoopfs


class FakeStatus:
    def __init__(self, path):
        self._path = path

    def getPath(self):
        return self

    def getName(self):
        return self._path.rstrip("/").rsplit("/", 1)[-1]


class FakeFileStatus:
    def __init__(self, path, size, modified):
        self.path, self.size, self.modified = path, size, modified

    def getPath(self):
        return type("p", (), {"toString": lambda _: self.path})()

    def getLen(self):
        return self.size

    def getModificationTime(self):
        return self.modified


class FakeIterator:
    def __init__(self, items):
        self.items = list(items)

    def hasNext(self):
        return bool(self.items)

    def next(self):
        return self.items.pop(0)


class FakeFs:
    def __init__(self, tree, files=()):
        self.tree = tree  # {prefix: [child paths]}
        self.files = list(files)  # [(path, size, modified)] under every prefix
        self.deleted = []

    def listFiles(self, path, recursive):
        assert recursive
        return FakeIterator(FakeFileStatus(*f) for f in self.files if f[0].startswith(path.value))

    def exists(self, path):
        return path.value in self.tree

    def listStatus(self, path):
        return [FakeStatus(p) for p in self.tree[path.value]]

    def delete(self, path, recursive):
        self.deleted.append((path.value, recursive))
        return True


class FakePath:
    fs = None

    def __init__(self, value):
        self.value = value

    def getFileSystem(self, conf):
        return FakePath.fs


class FakeSpark:
    def __init__(self, fs):
        FakePath.fs = fs
        hadoop = type("hadoop", (), {"fs": type("fsmod", (), {"Path": FakePath})})
        self._jvm = type("jvm", (), {"org": type("org", (), {"apache": type("apache", (), {"hadoop": hadoop})})})
        self._jsc = type("jsc", (), {"hadoopConfiguration": staticmethod(lambda: None)})


class HadoopFsTest(unittest.TestCase):
    def setUp(self):
        self.fs = FakeFs({
            "s3://p/orders/": ["s3://p/orders/dt=2024-05-02", "s3://p/orders/dt=2024-05-01",
                               "s3://p/orders/_temporary", "s3://p/orders/_SUCCESS"],
            "s3://p/orders/dt=2024-05-01/": [],
        })
        self.spark = FakeSpark(self.fs)

    def test_list_files_recursively_with_size_and_time(self):
        self.fs.files = [("s3://p/orders/dt=2024-05-01/a.parquet", 10, 1000), ("s3://p/other/b", 1, 1)]
        self.assertEqual(hadoopfs.list_files(self.spark, "s3://p/orders/"), [("s3://p/orders/dt=2024-05-01/a.parquet", 10, 1000)])
        self.assertEqual(hadoopfs.list_files(self.spark, "s3://p/missing/"), [])

    def test_delete(self):
        self.assertTrue(hadoopfs.delete_recursive(self.spark, "s3://p/orders/dt=2024-05-01/"))
        self.assertFalse(hadoopfs.delete_recursive(self.spark, "s3://p/orders/dt=2024-04-01/"))
        self.assertEqual(self.fs.deleted, [("s3://p/orders/dt=2024-05-01/", True)])


if __name__ == "__main__":
    unittest.main()
