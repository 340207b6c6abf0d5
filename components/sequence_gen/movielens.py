"""MovieLens: the source configurations of its formats and a verified, cached downloader.

The MovieLens licence forbids redistribution: this project never ships the data; users
download it from GroupLens (checksum-verified) or point `--data-dir` at their own copy.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from components.sequence_gen.config import ItemTable, SourceConfig
from components.sequence_gen.sources import InputError

DATASETS = ("ml-100k", "ml-1m", "ml-20m")

# Official archives and the MD5 sums GroupLens publishes beside them.
ARCHIVES = {
    "ml-100k": (
        "https://files.grouplens.org/datasets/movielens/ml-100k.zip",
        "0e33842e24a9c977be4e0107933c0723",
    ),
    "ml-1m": (
        "https://files.grouplens.org/datasets/movielens/ml-1m.zip",
        "c4d9eecfca2ab87c1945afe126590906",
    ),
    "ml-20m": (
        "https://files.grouplens.org/datasets/movielens/ml-20m.zip",
        "cd245b17a1ae2cc31bb14903e1204af3",
    ),
}

# u.item's 19 genre flag columns (ML-100K ships their names in u.genre, in this order).
ML100K_GENRES = (
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
)
_ML100K_FIRST_GENRE_COLUMN = 5


class DownloadError(RuntimeError):
    pass


def source_config(dataset: str, data_dir: str | os.PathLike) -> SourceConfig:
    """The SourceConfig reading MovieLens `dataset` from `data_dir`.

    For ml-1m the folder may hold GroupLens' `ratings.dat` or the ordered sequence file
    `interactions.csv[.gz]` (`user_id,item_id,position`); the files present tell which.
    """
    d = Path(data_dir)
    if dataset == "ml-100k":
        return SourceConfig(
            paths=(_need(d, "u.data", dataset),),
            format="tsv",
            has_header=False,
            user_column=0,
            item_column=1,
            rating_column=2,
            time_column=3,
            id_type="int",
            name=dataset,
            items=ItemTable(
                path=_need(d, "u.item", dataset),
                format="delimited",
                delimiter="|",
                has_header=False,
                quoted=False,
                encoding="latin-1",
                item_column=0,
                category_column=None,
                category_flags={
                    _ML100K_FIRST_GENRE_COLUMN + i: g for i, g in enumerate(ML100K_GENRES)
                },
            ),
        )
    if dataset == "ml-1m":
        movies = ItemTable(
            path=_need(d, "movies.dat", dataset),
            format="delimited",
            delimiter="::",
            has_header=False,
            quoted=False,
            encoding="latin-1",
            item_column=0,
            category_column=2,
            category_separator="|",
        )
        if (d / "ratings.dat").exists():
            return SourceConfig(
                paths=(str(d / "ratings.dat"),),
                format="delimited",
                delimiter="::",
                has_header=False,
                encoding="latin-1",
                user_column=0,
                item_column=1,
                rating_column=2,
                time_column=3,
                id_type="int",
                items=movies,
                name=dataset,
            )
        for name in ("interactions.csv.gz", "interactions.csv"):
            if (d / name).exists():
                return SourceConfig(
                    paths=(str(d / name),),
                    format="csv",
                    has_header=True,
                    user_column="user_id",
                    item_column="item_id",
                    time_column="position",
                    id_type="int",
                    items=movies,
                    name=f"{dataset} (ordered sequences)",
                )
        raise InputError(
            f"no MovieLens ml-1m interactions in {d}: expected ratings.dat (GroupLens) or "
            "interactions.csv[.gz] (user_id,item_id,position); "
            "`pipeline_runner.py download --dataset ml-1m` fetches GroupLens' archive"
        )
    if dataset == "ml-20m":
        return SourceConfig(
            paths=(_need(d, "ratings.csv", dataset),),
            format="csv",
            has_header=True,
            user_column="userId",
            item_column="movieId",
            rating_column="rating",
            time_column="timestamp",
            id_type="int",
            name=dataset,
            items=ItemTable(
                path=_need(d, "movies.csv", dataset),
                format="csv",
                has_header=True,
                quoted=True,
                item_column="movieId",
                category_column="genres",
                category_separator="|",
                missing_category="(no genres listed)",
            ),
        )
    raise InputError(f"unknown MovieLens dataset {dataset!r}; expected one of {DATASETS}")


def _need(d: Path, name: str, dataset: str) -> str:
    path = d / name
    if not path.exists():
        raise InputError(
            f"{name} not found in {d} (MovieLens {dataset}); give the folder that holds it, or "
            f"`pipeline_runner.py download --dataset {dataset}` to fetch GroupLens' archive"
        )
    return str(path)


def default_cache_dir() -> Path:
    base = os.environ.get("SAIR_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "sair"
    )
    return Path(base) / "movielens"


def download(
    dataset: str,
    cache_dir: str | os.PathLike | None = None,
    *,
    url: str | None = None,
    md5: str | None = None,
    timeout_s: float = 60.0,
) -> Path:
    """Downloads and unpacks a MovieLens archive once; returns the folder holding its files.

    The archive is fetched to a temporary file, checked against its MD5 and only then
    unpacked into `cache_dir/<dataset>/`. A later call finds it there and downloads nothing.
    """
    if dataset not in ARCHIVES:
        raise DownloadError(f"unknown MovieLens dataset {dataset!r}; expected one of {DATASETS}")
    default_url, default_md5 = ARCHIVES[dataset]
    url, md5 = url or default_url, md5 or default_md5
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = cache / dataset
    marker = target / ".sair-verified"
    if marker.exists() and marker.read_text().strip() == md5:
        return target
    cache.mkdir(parents=True, exist_ok=True)
    archive = cache / f"{dataset}.zip"
    part = cache / f"{dataset}.zip.part"
    digest = hashlib.md5()
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response, open(part, "wb") as out:
            while chunk := response.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
    except (urllib.error.URLError, OSError) as e:
        part.unlink(missing_ok=True)
        raise DownloadError(f"could not download {url}: {e}") from e
    if digest.hexdigest() != md5:
        part.unlink(missing_ok=True)
        raise DownloadError(
            f"checksum mismatch for {url}: got MD5 {digest.hexdigest()}, expected {md5}; "
            "the file was deleted, try again"
        )
    part.replace(archive)
    if target.exists():
        shutil.rmtree(target)
    _extract(archive, target)
    marker.write_text(md5)
    return target


def _extract(archive: Path, target: Path) -> None:
    """Unpacks the archive's files flat into `target` (GroupLens zips hold one folder)."""
    target.mkdir(parents=True)
    with zipfile.ZipFile(archive) as z:
        for info in z.infolist():
            if info.is_dir():
                continue
            name = Path(info.filename).name
            if not name or name.startswith("."):
                continue
            with z.open(info) as src, open(target / name, "wb") as dst:
                shutil.copyfileobj(src, dst)
