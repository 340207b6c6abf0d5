"""The executor of BatchRecommender: runs `recommend.run_batch_recommendation` on the
component's Beam, with the model the Pusher archived."""

from __future__ import annotations

import logging
from typing import Any

from tfx.dsl.components.base import base_beam_executor
from tfx.types import artifact_utils

from components.batch_recommend import recommend

PUSHED_KEY = "pushed"  # set by the TFX Pusher: 1 when it pushed


class Executor(base_beam_executor.BaseBeamExecutor):
    def Do(  # noqa: N802 (TFX interface)
        self,
        input_dict: dict[str, list[Any]],
        output_dict: dict[str, list[Any]],
        exec_properties: dict[str, Any],
    ) -> None:
        pushed = artifact_utils.get_single_instance(input_dict["pushed_model"])
        examples = artifact_utils.get_single_instance(input_dict["examples"])
        output = artifact_utils.get_single_instance(output_dict["recommendations"])
        if not pushed.get_int_custom_property(PUSHED_KEY):
            output.set_string_custom_property("skipped_because", "the model was not pushed")
            output.set_int_custom_property("users", 0)
            logging.info("BatchRecommender: the model was not pushed; nothing recommended")
            return
        users = recommend.run_batch_recommendation(
            examples.uri,
            pushed.uri,
            output.uri,
            self._make_beam_pipeline,
            int(exec_properties["batch_size"]),
        )
        output.set_int_custom_property("users", users)
        logging.info("BatchRecommender: top-N for %d users in %s", users, output.uri)
