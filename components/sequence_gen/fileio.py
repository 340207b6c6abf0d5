"""Small file helpers over Beam's FileSystems (local paths, gs://, hdfs:// alike)."""

from apache_beam.io.filesystems import FileSystems


def ensure_dir(path: str) -> None:
    if not FileSystems.exists(path):
        FileSystems.mkdirs(path)


def write_text(path: str, text: str) -> None:
    with FileSystems.create(path) as f:
        f.write(text.encode("utf-8"))


def read_text(path: str) -> str:
    with FileSystems.open(path) as f:
        return f.read().decode("utf-8")
