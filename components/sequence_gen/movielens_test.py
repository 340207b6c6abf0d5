"""MovieLens readers and downloader. The downloader is tested against a local HTTP server
serving an archive built here; the real data is read from ../shared/data, never copied."""

import functools
import hashlib
import http.server
import threading
import zipfile

import apache_beam as beam
import pytest

from components.sequence_gen import ingest, movielens
from components.sequence_gen.config import DataConfig
from components.sequence_gen.sources import InputError

# A tiny made-up dataset in ML-100K's layout (not MovieLens data).
FAKE_U_DATA = "".join(
    f"{u}\t{i}\t{(u + i) % 5 + 1}\t{1000 + 10 * u + i}\n" for u in range(1, 5) for i in range(1, 6)
)
FAKE_U_ITEM = "".join(
    f"{i}|Film {i}|01-Jan-1995||http://x/{i}|"
    + "|".join("1" if g == i else "0" for g in range(19))
    + "\n"
    for i in range(1, 7)
)


@pytest.fixture
def archive_server(tmp_path):
    """Serves tmp_path/www over HTTP on 127.0.0.1; yields (base url, www dir, stop)."""
    www = tmp_path / "www"
    www.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(www))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stopped = []

    def stop():
        if not stopped:
            server.shutdown()
            server.server_close()
            stopped.append(True)

    yield f"http://127.0.0.1:{server.server_address[1]}", www, stop
    stop()


def _fake_ml100k_zip(path):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("ml-100k/u.data", FAKE_U_DATA)
        z.writestr("ml-100k/u.item", FAKE_U_ITEM.encode("latin-1"))
        z.writestr("ml-100k/README", "made up")
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_download_verifies_unpacks_and_caches(tmp_path, archive_server):
    base, www, stop = archive_server
    md5 = _fake_ml100k_zip(www / "ml-100k.zip")
    cache = tmp_path / "cache"
    got = movielens.download("ml-100k", cache, url=f"{base}/ml-100k.zip", md5=md5)
    assert got == cache / "ml-100k"
    assert (got / "u.data").read_text() == FAKE_U_DATA

    stop()  # a second call must not touch the network
    again = movielens.download("ml-100k", cache, url=f"{base}/ml-100k.zip", md5=md5)
    assert again == got

    # The downloaded folder is read by the ML-100K source, through the whole ingestion.
    outputs = ingest.IngestOutputs.under(str(tmp_path / "out"))
    report = ingest.run_ingestion(
        movielens.source_config("ml-100k", got),
        DataConfig(num_eval_negatives=1),
        outputs,
        lambda: beam.Pipeline(),
    )
    assert (report["users"], report["items"], report["actions"]) == (4, 5, 20)
    assert report["categories"] == 5  # items 1-5 each have one genre; item 6 is never rated


def test_download_rejects_a_wrong_checksum_and_leaves_nothing(tmp_path, archive_server):
    base, www, _ = archive_server
    _fake_ml100k_zip(www / "ml-100k.zip")
    cache = tmp_path / "cache"
    with pytest.raises(movielens.DownloadError, match="checksum mismatch"):
        movielens.download("ml-100k", cache, url=f"{base}/ml-100k.zip", md5="0" * 32)
    assert not (cache / "ml-100k").exists()
    assert list(cache.iterdir()) == []


def test_download_reports_http_errors(tmp_path, archive_server):
    base, _, _ = archive_server
    with pytest.raises(movielens.DownloadError, match="could not download"):
        movielens.download("ml-1m", tmp_path / "cache", url=f"{base}/missing.zip", md5="0" * 32)


def test_official_archives_are_configured():
    assert set(movielens.ARCHIVES) == {"ml-100k", "ml-1m", "ml-20m"}
    for url, md5 in movielens.ARCHIVES.values():
        assert url.startswith("https://files.grouplens.org/datasets/movielens/")
        assert len(md5) == 32


def test_ml1m_folder_format_is_detected(tmp_path):
    (tmp_path / "movies.dat").write_text("1::A (2000)::Drama\n")
    with pytest.raises(InputError, match="expected ratings.dat"):
        movielens.source_config("ml-1m", tmp_path)
    (tmp_path / "interactions.csv.gz").write_bytes(b"")
    assert movielens.source_config("ml-1m", tmp_path).time_column == "position"
    (tmp_path / "ratings.dat").write_text("1::1::5::978300760\n")
    grouplens = movielens.source_config("ml-1m", tmp_path)
    assert grouplens.delimiter == "::"
    assert grouplens.time_column == 3


def test_missing_movielens_files_are_named(tmp_path):
    with pytest.raises(InputError, match=r"u.data not found .* download --dataset ml-100k"):
        movielens.source_config("ml-100k", tmp_path)


def _ingest_real(shared_data, name, tmp_path):
    outputs = ingest.IngestOutputs.under(str(tmp_path / name))
    return ingest.run_ingestion(
        movielens.source_config(name, shared_data / name),
        DataConfig(),
        outputs,
        lambda: beam.Pipeline(),
    )


@pytest.mark.real_data
@pytest.mark.slow
def test_real_ml100k_statistics(shared_data, tmp_path):
    r = _ingest_real(shared_data, "ml-100k", tmp_path)
    assert (r["users"], r["items"], r["actions"], r["categories"]) == (943, 1682, 100_000, 19)
    assert r["rows_read"] == r["rows_kept"] == 100_000
    # Training histories of m > 200 items train in ceil((m - 1) / 199) windows of 200
    # (`training_windows: all`): 146 users bring 164 more examples.
    assert r["examples"] == {"train": 1107, "eval": 943, "test": 943}


@pytest.mark.real_data
@pytest.mark.slow
def test_real_ml1m_statistics(shared_data, tmp_path):
    r = _ingest_real(shared_data, "ml-1m", tmp_path)
    assert (r["users"], r["items"], r["actions"], r["categories"]) == (6040, 3706, 1_000_209, 18)
    assert r["avg_length"] == pytest.approx(165.6, abs=0.05)
    assert r["rows_read"] == r["rows_kept"]


def _ingest_fake(tmp_path, dataset, directory):
    outputs = ingest.IngestOutputs.under(str(tmp_path / "out"))
    return ingest.run_ingestion(
        movielens.source_config(dataset, directory),
        DataConfig(num_eval_negatives=1),
        outputs,
        lambda: beam.Pipeline(),
    )


def test_grouplens_ml1m_layout(tmp_path):
    # Made-up rows in GroupLens' ML-1M layout: `::` fields, latin-1 titles.
    d = tmp_path / "ml-1m"
    d.mkdir()
    (d / "ratings.dat").write_text(
        "1::1::5::978300760\n1::2::3::978300761\n1::3::4::978300762\n2::1::4::978300800\n"
        "2::4::3::978300900\n"
    )
    (d / "movies.dat").write_bytes(
        "1::Amélie (2001)::Comedy|Romance\n2::B (1999)::Drama\n3::C (1998)::Drama\n"
        "4::D (1997)::Drama\n".encode("latin-1")
    )
    r = _ingest_fake(tmp_path, "ml-1m", d)
    assert (r["users"], r["items"], r["actions"], r["categories"]) == (2, 4, 5, 3)
    assert r["examples"] == {"train": 2, "eval": 1, "test": 1}


def test_ml20m_layout_with_quoted_titles_and_no_genres(tmp_path):
    d = tmp_path / "ml-20m"
    d.mkdir()
    (d / "ratings.csv").write_text(
        "userId,movieId,rating,timestamp\n1,10,3.5,1112486027\n1,20,4.0,1112484676\n"
        "1,30,4.0,1112484819\n2,10,0.5,1112484727\n"
    )
    (d / "movies.csv").write_text(
        'movieId,title,genres\n10,"Good, the Bad (1966)",Western\n'
        "20,Plain (1995),Comedy|Drama\n30,Untitled (2015),(no genres listed)\n"
    )
    r = _ingest_fake(tmp_path, "ml-20m", d)
    assert (r["users"], r["items"], r["actions"], r["categories"]) == (2, 3, 4, 3)
    assert r["items_without_category"] == 1
