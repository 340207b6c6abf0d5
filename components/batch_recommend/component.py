"""BatchRecommender: top-N recommendations for every user from the pushed model.

Inputs: `examples` (SequenceExampleGen's; the users' histories and the vocabulary) and
`pushed_model` (the Pusher's output: the copy of exactly the model that was pushed).
Output: `recommendations` (Recommendations: TFRecord and CSV, see recommend.py). When the
Pusher did not push (the model was not blessed), nothing is scored and the artifact says
so in its `skipped_because` property.
"""

from __future__ import annotations

from tfx.dsl.components.base import base_beam_component, executor_spec
from tfx.types import artifact, channel, channel_utils, component_spec, standard_artifacts

from components.batch_recommend import executor


class Recommendations(artifact.Artifact):
    """tfrecord/ and csv/ recommendation files and users.txt (see recommend.py)."""

    TYPE_NAME = "sair.Recommendations"


class BatchRecommenderSpec(component_spec.ComponentSpec):
    PARAMETERS = {"batch_size": component_spec.ExecutionParameter(type=int)}
    INPUTS = {
        "examples": component_spec.ChannelParameter(type=standard_artifacts.Examples),
        "pushed_model": component_spec.ChannelParameter(type=standard_artifacts.PushedModel),
    }
    OUTPUTS = {"recommendations": component_spec.ChannelParameter(type=Recommendations)}


class BatchRecommender(base_beam_component.BaseBeamComponent):
    SPEC_CLASS = BatchRecommenderSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)

    def __init__(
        self,
        examples: channel.BaseChannel,
        pushed_model: channel.BaseChannel,
        batch_size: int = 256,
    ):
        """Args:
        examples: SequenceExampleGen's `examples`.
        pushed_model: the Pusher's `pushed_model`.
        batch_size: users per call of the model's `recommend` signature.
        """
        if batch_size < 1:
            raise ValueError(f"BatchRecommender: batch_size must be >= 1, received {batch_size}")
        spec = BatchRecommenderSpec(
            batch_size=batch_size,
            examples=examples,
            pushed_model=pushed_model,
            recommendations=channel_utils.as_channel([Recommendations()]),
        )
        super().__init__(spec=spec)
