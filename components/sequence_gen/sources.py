"""Reading interaction logs and item tables: row parsing, validation and preflight checks.

Every row read ends up either kept or rejected with a reason; nothing is dropped silently.
The functions here are plain Python so that the Beam transforms stay thin and testable.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import dataclasses
import datetime
import gzip
import math
import zlib
from collections.abc import Iterator
from typing import NamedTuple

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from components.sequence_gen.config import (
    TEXT_FORMATS,
    ConfigError,
    ItemTable,
    SourceConfig,
    text_delimiter,
)

# Rejection reasons (keys of `rows_rejected` in the data report).
INVALID_ENCODING = "invalid_encoding"
WRONG_FIELD_COUNT = "wrong_field_count"
MISSING_ID = "missing_id"
NON_NUMERIC_ID = "non_numeric_id"
NON_NUMERIC_TIME = "non_numeric_time"
NON_NUMERIC_RATING = "non_numeric_rating"
NAN_RATING = "nan_rating"
RATING_BELOW_MIN = "rating_below_min"
DUPLICATE = "duplicate"
# Removed by k-core filtering (DataConfig.min_item_interactions / min_user_interactions).
ITEM_BELOW_MIN = "item_below_min_interactions"
USER_BELOW_MIN = "user_below_min_interactions"

# Row ids order rows across files: file index in the high bits, line number in the low bits.
_LINE_BITS = 40


class InputError(ValueError):
    """The input cannot be read as configured; the message names the file and the fix."""


class Interaction(NamedTuple):
    """One valid row. `row_id` orders ties (input order) and locates the row."""

    time: float
    row_id: int
    item: str
    rating: float


class Rejection(NamedTuple):
    reason: str
    row_id: int
    location: str
    text: str


class RowError(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def make_row_id(file_index: int, line_number: int) -> int:
    return (file_index << _LINE_BITS) | line_number


@dataclasses.dataclass(frozen=True)
class Columns:
    """Column indices resolved from a header or given as integers."""

    user: int
    item: int
    time: int
    rating: int | None
    category: int | None
    num_fields: int


def _open(path: str):
    """A binary stream of the file's content. gzip and bzip2 go through Python's own
    decompressors, which raise on a truncated stream (Beam's read what they can silently)."""
    kind = CompressionTypes.detect_compression_type(path)
    if kind == CompressionTypes.GZIP:
        return gzip.GzipFile(
            fileobj=FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)
        )
    if kind == CompressionTypes.BZIP2:
        return bz2.BZ2File(FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED))
    return FileSystems.open(path, compression_type=CompressionTypes.AUTO)


def _lines(path: str) -> Iterator[bytes]:
    """The file's lines without their line ends (the last one with or without its own);
    `InputError` naming the file when its compressed stream is truncated or corrupt."""
    try:
        with _open(path) as f:
            line = _without_bom(f.readline())
            while line:
                yield line.rstrip(b"\r\n")
                line = f.readline()
    except (EOFError, OSError, zlib.error) as e:
        raise InputError(f"{path}: the compressed file is truncated or corrupt ({e})") from e


def check_compressed(path: str) -> None:
    """Reads a gzip or bzip2 file to its end before any row is used: a truncated or corrupt
    one fails here with `InputError`, not half-way through the ingestion."""
    if CompressionTypes.detect_compression_type(path) in (
        CompressionTypes.GZIP,
        CompressionTypes.BZIP2,
    ):
        for _ in _lines(path):
            pass


def _without_bom(first_line: bytes) -> bytes:
    """A file's first line without the UTF-8 byte-order mark that spreadsheet programs
    write (the bytes, not a character of the first field)."""
    return (
        first_line[len(codecs.BOM_UTF8) :] if first_line.startswith(codecs.BOM_UTF8) else first_line
    )


def _split(text: str, delimiter: str, quoted: bool) -> list[str]:
    if quoted:
        return next(csv.reader([text], delimiter=delimiter))
    return text.split(delimiter)


def _index(column: str | int, header: list[str] | None, path: str, role: str) -> int:
    if isinstance(column, int):
        return column
    if header is None:
        raise ConfigError(
            f"{role} column {column!r} is a name but {path} is read without a header; "
            "give a 0-based column index or set has_header"
        )
    if column not in header:
        raise InputError(
            f"{path}: {role} column {column!r} is not in the header {header}; "
            "check the column names and the delimiter"
        )
    return header.index(column)


def resolve_columns(source: SourceConfig, header: list[str] | None, path: str) -> Columns:
    def idx(col, role):
        return None if col is None else _index(col, header, path, role)

    cols = Columns(
        user=idx(source.user_column, "user"),
        item=idx(source.item_column, "item"),
        time=idx(source.time_column, "time"),
        rating=idx(source.rating_column, "rating"),
        category=idx(source.category_column, "category"),
        num_fields=len(header) if header is not None else 0,
    )
    used = [
        c for c in (cols.user, cols.item, cols.time, cols.rating, cols.category) if c is not None
    ]
    need = max(used) + 1
    if header is None:
        cols = dataclasses.replace(cols, num_fields=need)
    return cols


def preflight(source: SourceConfig) -> list[Columns]:
    """Checks every input file before the pipeline starts; returns their resolved columns.

    Raises `InputError` with a readable message for a missing file, an empty file, a header
    without the configured columns or a first row whose field count shows a wrong delimiter.
    """
    resolved = []
    for path in source.paths:
        if not FileSystems.exists(path):
            raise InputError(f"input file not found: {path}")
        check_compressed(path)
        if source.format == "parquet":
            resolved.append(_preflight_parquet(source, path))
            continue
        delimiter = source.text_delimiter
        lines = _lines(path)
        header = None
        first = next(lines, None)
        if source.has_header:
            if first is None:
                raise InputError(f"empty input: {path} has no header and no rows")
            header = [
                h.strip()
                for h in _split(_decode(first, source.encoding, path), delimiter, source.quoted)
            ]
            first = next(lines, None)
        while first is not None and not first.strip():
            first = next(lines, None)
        if first is None:
            raise InputError(f"empty input: {path} has no data rows")
        cols = resolve_columns(source, header, path)
        fields = _split(first.decode(source.encoding, errors="replace"), delimiter, source.quoted)
        expected = cols.num_fields
        if len(fields) < expected or (header is not None and len(fields) != expected):
            raise InputError(
                f"{path}: the first row has {len(fields)} field(s) split on {delimiter!r} but "
                f"{expected} are expected; wrong delimiter or columns? First row: "
                f"{first[:200]!r}"
            )
        resolved.append(cols)
    return resolved


def _decode(raw: bytes, encoding: str, path: str) -> str:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: the header is not valid {encoding}: {raw[:200]!r}") from e


def _preflight_parquet(source: SourceConfig, path: str) -> Columns:
    import pyarrow as pa
    import pyarrow.parquet as pq

    with _open(path) as f:
        try:
            pf = pq.ParquetFile(f)
        except (pa.ArrowException, OSError) as e:
            raise InputError(f"{path}: not a readable Parquet file ({e})") from e
        header = pf.schema_arrow.names
        if pf.metadata.num_rows == 0:
            raise InputError(f"empty input: {path} has no rows")
    return resolve_columns(source, list(header), path)


def parse_id(value, id_type: str) -> str:
    text = "" if value is None else str(value).strip()
    if not text:
        raise RowError(MISSING_ID)
    if id_type == "int":
        try:
            return str(int(text))
        except ValueError:
            raise RowError(NON_NUMERIC_ID) from None
    return text


def parse_time(value, time_type: str) -> float:
    if isinstance(value, datetime.datetime):
        return _epoch(value)
    text = "" if value is None else str(value).strip()
    try:
        if time_type == "iso8601":
            return _epoch(datetime.datetime.fromisoformat(text.replace("Z", "+00:00")))
        t = float(text)
    except ValueError:
        raise RowError(NON_NUMERIC_TIME) from None
    if not math.isfinite(t):
        raise RowError(NON_NUMERIC_TIME)
    return t


def _epoch(value: datetime.datetime) -> float:
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value.timestamp()


def parse_rating(value, min_rating: float) -> float:
    text = "" if value is None else str(value).strip()
    try:
        r = float(text)
    except ValueError:
        # An empty rating cell is a missing (NaN) rating, not a malformed one.
        raise RowError(NAN_RATING if not text else NON_NUMERIC_RATING) from None
    if math.isnan(r):
        raise RowError(NAN_RATING)
    if r < min_rating:
        raise RowError(RATING_BELOW_MIN)
    return r


def parse_interaction(
    fields: list, cols: Columns, source: SourceConfig, min_rating: float, row_id: int
) -> tuple[str, Interaction, list[str]]:
    """One row's fields → (user, Interaction, inline categories); raises RowError."""
    if cols.num_fields and len(fields) != cols.num_fields:
        raise RowError(WRONG_FIELD_COUNT)
    user = parse_id(fields[cols.user], source.id_type)
    item = parse_id(fields[cols.item], source.id_type)
    time = parse_time(fields[cols.time], source.time_type)
    rating = math.nan
    if cols.rating is not None:
        rating = parse_rating(fields[cols.rating], min_rating)
    categories: list[str] = []
    if cols.category is not None:
        categories = split_categories(fields[cols.category], source.category_separator)
    return user, Interaction(time, row_id, item, rating), categories


def split_categories(value, separator: str) -> list[str]:
    text = "" if value is None else str(value).strip()
    if not text:
        return []
    return [c.strip() for c in text.split(separator) if c.strip()]


class ParsedRow(NamedTuple):
    user: str | None
    interaction: Interaction | None
    categories: list[str]
    rejection: Rejection | None


class Shard(NamedTuple):
    """A part of one input file: the whole file (`end` None), or the lines that start in
    the byte range [start, end) of an uncompressed text file."""

    file_index: int
    start: int = 0
    end: int | None = None


@dataclasses.dataclass(frozen=True)
class RowLocator:
    """Turns a row id back into `path:line`, or `path (byte N)` for files read in ranges,
    whose row ids are byte offsets (they order rows the same way)."""

    paths: tuple[str, ...]
    split_files: frozenset[int] = frozenset()

    def __call__(self, row_id: int) -> str:
        file_index, pos = row_id >> _LINE_BITS, row_id & ((1 << _LINE_BITS) - 1)
        if file_index in self.split_files:
            return f"{self.paths[file_index]} (byte {pos})"
        return f"{self.paths[file_index]}:{pos}"


def plan_shards(source: SourceConfig, shard_bytes: int = 64 << 20) -> list[Shard]:
    """Splits large uncompressed text files into byte ranges so that workers share them."""
    shards = []
    for i, path in enumerate(source.paths):
        size = FileSystems.match([path])[0].metadata_list[0].size_in_bytes
        splittable = (
            source.format in TEXT_FORMATS
            and not source.quoted  # a quoted field may hold a newline
            and CompressionTypes.detect_compression_type(path) == CompressionTypes.UNCOMPRESSED
        )
        if not splittable or size <= shard_bytes:
            shards.append(Shard(i))
            continue
        shards.extend(
            Shard(i, start, min(start + shard_bytes, size)) for start in range(0, size, shard_bytes)
        )
    return shards


def locator(source: SourceConfig, shards: list[Shard]) -> RowLocator:
    return RowLocator(source.paths, frozenset(s.file_index for s in shards if s.end is not None))


def _range_lines(path: str, start: int, end: int) -> Iterator[tuple[int, bytes]]:
    """(offset, line) for every line whose first byte lies in [start, end)."""
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
        pos = start
        if start > 0:
            f.seek(start - 1)
            pos = start - 1 + len(f.readline())  # finish the line that began before us
        while pos < end:
            line = f.readline()
            if not line:
                return
            text = _without_bom(line) if pos == 0 else line
            yield pos, text.rstrip(b"\r\n")
            pos += len(line)


def iter_interactions(
    source: SourceConfig, shard: Shard, cols: Columns, min_rating: float
) -> Iterator[ParsedRow]:
    """Every data row of one shard of an input file, parsed or rejected."""
    if source.format == "parquet":
        yield from _iter_parquet(source, shard.file_index, cols, min_rating)
        return
    path = source.paths[shard.file_index]
    if shard.end is None:
        lines = enumerate(_lines(path), start=1)  # row ids from line numbers
        first = 1
    else:
        lines = _range_lines(path, shard.start, shard.end)  # row ids from byte offsets
        first = 0
    locate = RowLocator(
        source.paths, frozenset() if shard.end is None else frozenset([shard.file_index])
    )
    delimiter = source.text_delimiter
    for pos, raw in lines:
        if source.has_header and pos == first:
            continue
        row_id = make_row_id(shard.file_index, pos)
        try:
            try:
                text = raw.decode(source.encoding)
            except UnicodeDecodeError:
                raise RowError(INVALID_ENCODING) from None
            fields = _split(text, delimiter, source.quoted)
            if len(fields) < cols.num_fields:
                raise RowError(WRONG_FIELD_COUNT)
            user, interaction, cats = parse_interaction(fields, cols, source, min_rating, row_id)
            yield ParsedRow(user, interaction, cats, None)
        except (RowError, csv.Error) as e:
            reason = e.reason if isinstance(e, RowError) else WRONG_FIELD_COUNT
            text = raw[:200].decode(source.encoding, errors="replace")
            yield ParsedRow(None, None, [], Rejection(reason, row_id, locate(row_id), text))


def _iter_parquet(
    source: SourceConfig, file_index: int, cols: Columns, min_rating: float
) -> Iterator[ParsedRow]:
    import pyarrow.parquet as pq

    path = source.paths[file_index]
    line_number = 0
    with _open(path) as f:
        for batch in pq.ParquetFile(f).iter_batches(batch_size=65536):
            columns = [c.to_pylist() for c in batch.columns]
            parquet_cols = dataclasses.replace(cols, num_fields=0)
            for values in zip(*columns, strict=True):
                line_number += 1
                row_id = make_row_id(file_index, line_number)
                fields = list(values)
                try:
                    user, interaction, cats = parse_interaction(
                        fields, parquet_cols, source, min_rating, row_id
                    )
                    yield ParsedRow(user, interaction, cats, None)
                except RowError as e:
                    yield ParsedRow(
                        None,
                        None,
                        [],
                        Rejection(
                            e.reason, row_id, f"{path}:row {line_number}", repr(values)[:200]
                        ),
                    )


def preflight_item_table(table: ItemTable, id_type: str = "string") -> None:
    """Checks the item file before the pipeline starts, as `preflight` checks the log: the
    file exists, its compressed stream is whole, its header holds the configured columns
    and its first row splits into enough fields (a wrong delimiter shows there). Raises
    `InputError` (or `ConfigError`) with a readable message."""
    if not FileSystems.exists(table.path):
        raise InputError(f"item file not found: {table.path}")
    check_compressed(table.path)
    first = next(iter_item_table(table, id_type), None)
    if first is None:
        raise InputError(f"empty item file: {table.path} has no rows")
    if isinstance(first, Rejection) and first.reason == WRONG_FIELD_COUNT:
        raise InputError(
            f"{table.path}: the first row has too few fields split on "
            f"{text_delimiter(table.format, table.delimiter)!r}; wrong delimiter or columns? "
            f"First row: {first.text!r}"
        )


def iter_item_table(
    table: ItemTable, id_type: str = "string"
) -> Iterator[tuple[str, list[str]] | Rejection]:
    """(item id, categories) for every row of an item file, or a Rejection."""
    if not FileSystems.exists(table.path):
        raise InputError(f"item file not found: {table.path}")
    delimiter = text_delimiter(table.format, table.delimiter)
    header = None
    item_col = cat_col = None
    for line_number, raw in enumerate(_lines(table.path), start=1):
        row_id = make_row_id(0, line_number)
        try:
            text = raw.decode(table.encoding)
        except UnicodeDecodeError:
            yield Rejection(
                INVALID_ENCODING, row_id, f"{table.path}:{line_number}", repr(raw[:200])
            )
            continue
        fields = _split(text, delimiter, table.quoted)
        if table.has_header and header is None:
            header = [h.strip() for h in fields]
            item_col = _index(table.item_column, header, table.path, "item")
            if table.category_column is not None:
                cat_col = _index(table.category_column, header, table.path, "category")
            continue
        if item_col is None:
            item_col = _index(table.item_column, None, table.path, "item")
            if table.category_column is not None:
                cat_col = _index(table.category_column, None, table.path, "category")
        if not text.strip():
            continue
        needed = (
            max(
                [item_col]
                + ([cat_col] if cat_col is not None else [])
                + list((table.category_flags or {}).keys())
            )
            + 1
        )
        if len(fields) < needed:
            yield Rejection(WRONG_FIELD_COUNT, row_id, f"{table.path}:{line_number}", text[:200])
            continue
        try:
            item = parse_id(fields[item_col], id_type)
        except RowError as e:
            yield Rejection(e.reason, row_id, f"{table.path}:{line_number}", text[:200])
            continue
        if table.category_flags:
            cats = [
                name
                for col, name in sorted(table.category_flags.items())
                if fields[col].strip() == "1"
            ]
        elif cat_col is not None and fields[cat_col].strip() != table.missing_category:
            cats = split_categories(fields[cat_col], table.category_separator)
        else:
            cats = []
        yield item, cats
