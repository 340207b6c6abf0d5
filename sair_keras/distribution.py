"""The distribution strategy training runs under, from the environment: one code path for
one process, the GPUs of one machine, or several workers.

- `TF_CONFIG` naming more than one task (the cluster Vertex AI Training sets for worker
  pools, or any launcher): `tf.distribute.MultiWorkerMirroredStrategy`, one replica per
  worker, gradients all-reduced every step;
- else, GPUs present: `tf.distribute.MirroredStrategy` over them;
- else: the default strategy (this process, its CPU).

Each global batch is split across the replicas; `SAIRModel.train_step` averages the loss
over the real positions of the whole global batch. Only the chief writes what outlives the
run (`is_chief`); the other workers write to a scratch folder (`worker_path`), which saving
a distributed model needs.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Mapping

import tensorflow as tf

TF_CONFIG = "TF_CONFIG"
LOG = logging.getLogger("sair.distribution")


def cluster_tasks(environ: Mapping[str, str] | None = None) -> int:
    """The number of training tasks (chief and workers) `TF_CONFIG` names; 0 without it."""
    raw = (os.environ if environ is None else environ).get(TF_CONFIG)
    if not raw:
        return 0
    try:
        cluster = json.loads(raw).get("cluster", {})
    except (ValueError, AttributeError) as e:
        raise ValueError(f"{TF_CONFIG} is not a JSON object with a 'cluster': {raw!r}") from e
    return sum(len(cluster.get(role, [])) for role in ("chief", "worker"))


def strategy_from_environment(
    environ: Mapping[str, str] | None = None,
) -> tf.distribute.Strategy:
    """The strategy for this process (see the module's docstring). Create it before
    TensorFlow runs any op: collective ops are configured when the strategy is made."""
    if cluster_tasks(environ) > 1:
        options = tf.distribute.experimental.CommunicationOptions(
            implementation=tf.distribute.experimental.CommunicationImplementation.RING
        )
        return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    if tf.config.list_physical_devices("GPU"):
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes the run's outputs: the only process, the `chief` task,
    or worker 0 of a cluster without a chief."""
    resolver = strategy.cluster_resolver
    if resolver is None or not resolver.task_type:
        return True
    if resolver.task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return resolver.task_type == "worker" and resolver.task_id == 0 and not has_chief


def worker_path(path: str, strategy: tf.distribute.Strategy) -> str:
    """`path` on the chief; a fresh scratch folder on any other worker (saving a model
    distributed over workers takes every worker, but only the chief's copy is kept)."""
    if is_chief(strategy):
        return path
    scratch = tempfile.mkdtemp(prefix="sair-worker-")
    LOG.info("this worker writes its copy of %s to %s", path, scratch)
    return scratch
