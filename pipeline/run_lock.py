"""One run at a time per output root: a lock file beside the ML Metadata store.

Two runs writing to one output root would share its metadata store, each reporting the
other's components and pushed model. `run` takes this lock for its whole run; a second run
on a busy output root stops at once with a message instead.

    with output_root_lock(config):
        ...  # run the pipeline, build the report
"""

from __future__ import annotations

import contextlib
import fcntl
import os

from pipeline.config import PipelineConfig
from sair_keras.config import ConfigError


def lock_path(config: PipelineConfig) -> str:
    return config.metadata_path + ".lock"


@contextlib.contextmanager
def output_root_lock(config: PipelineConfig):
    """Holds the output root's lock (the local and beam runners' metadata store); raises
    ConfigError, naming the lock, when another process holds it."""
    path = lock_path(config)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "another process"
            raise ConfigError(
                f"another run ({holder}) is using {config.output_root}; wait for it to end "
                f"or give another --output-root (lock: {path})"
            ) from None
        f.seek(0)
        f.truncate()
        f.write(f"pid {os.getpid()}\n")
        f.flush()
        try:
            yield path
        finally:
            f.seek(0)
            f.truncate()
            fcntl.flock(f, fcntl.LOCK_UN)
