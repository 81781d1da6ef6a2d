"""Driver rows to typed rows: each field converted once, by its type."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from onion_app.config import Config
from onion_app.store import Database, rows
from onion_app.store.connection import Connection


@dataclasses.dataclass(frozen=True)
class Sample:
    id: int
    names: frozenset[str]
    flag: bool
    blob: bytes | None
    count: int | None
    text: str | None
    kept: bool = True
    left: str = "default"


@pytest.fixture
def conn(initialised: Config) -> Iterator[Connection]:
    connection = Database(initialised).open()
    yield connection
    connection.close()


def test_each_field_is_converted_by_its_type(conn: Connection) -> None:
    found = rows.one(Sample, conn.execute(
        "SELECT 7 AS id, 'legal,press,' AS names, 1 AS flag, x'0102' AS blob,"
        " '12' AS count, 'words' AS text, 0 AS kept").fetchone())
    assert found == Sample(7, frozenset({"legal", "press"}), True, b"\x01\x02", 12, "words",
                           kept=False)
    assert type(found.blob) is bytes


def test_null_stays_null_but_a_set_is_empty(conn: Connection) -> None:
    found = rows.one(Sample, conn.execute(
        "SELECT 1 AS id, NULL AS names, NULL AS flag, NULL AS blob, NULL AS count,"
        " NULL AS text").fetchone())
    assert found == Sample(1, frozenset(), None, None, None, None)  # type: ignore[arg-type]


def test_a_column_not_selected_keeps_its_default(conn: Connection) -> None:
    found = rows.one(Sample, conn.execute(
        "SELECT 1 AS id, '' AS names, 0 AS flag, NULL AS blob, 3 AS count,"
        " NULL AS text").fetchone())
    assert found is not None
    assert (found.kept, found.left) == (True, "default")


def test_names_are_found_as_a_row_finds_them(conn: Connection) -> None:
    # Whatever the case, and the first of two columns of one name.
    found = rows.one(Sample, conn.execute(
        "SELECT 2 AS ID, 'a' AS Names, 1 AS flag, NULL AS blob, 1 AS count, 'first' AS text,"
        " 'second' AS text").fetchone())
    assert found is not None
    assert (found.id, found.names, found.text) == (2, frozenset({"a"}), "first")


def test_many_rows_and_other_columns_of_the_same_class(conn: Connection) -> None:
    conn.execute("CREATE TEMP TABLE t (id INTEGER, names TEXT, flag INTEGER)")
    conn.executemany("INSERT INTO t VALUES (?, ?, ?)", [(1, "x", 0), (2, "y,z", 1)])
    wide = rows.many(Sample, conn.execute(
        "SELECT id, names, flag, NULL AS blob, id * 10 AS count, 'w' AS text, flag AS kept"
        " FROM t ORDER BY id"))
    assert [(s.id, s.names, s.flag, s.count, s.kept) for s in wide] == [
        (1, frozenset({"x"}), False, 10, False), (2, frozenset({"y", "z"}), True, 20, True)]
    # Fewer columns from the same class: not the plan of the query before.
    narrow = rows.many(Sample, conn.execute(
        "SELECT id, names, flag, NULL AS blob, NULL AS count, NULL AS text FROM t ORDER BY id"))
    assert [(s.count, s.kept) for s in narrow] == [(None, True), (None, True)]
    assert rows.many(Sample, conn.execute("SELECT * FROM t WHERE id > 9")) == []
    assert rows.one(Sample, conn.execute("SELECT * FROM t WHERE id > 9").fetchone()) is None
