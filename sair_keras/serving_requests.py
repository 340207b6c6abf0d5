"""TF Serving requests for the pushed model: gRPC `PredictRequest`s (tensorflow-serving-api)
and REST JSON bodies, and how a server turns them into the signature's inputs.

  request = predict_request([["1193", "661", "914"]], model_name="sair")
  stub.Predict(request, timeout=1.0)           # prediction_service_pb2_grpc stub, port 8500
  requests.post("http://HOST:8501/v1/models/sair:predict", json=rest_body([[...]]))

Histories are raw item ids, oldest first; rows of different lengths are left-padded with ""
(the model ignores "" and unknown ids). Signatures: see `sair_keras.export`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import tensorflow as tf
from tensorflow_serving.apis import predict_pb2

from sair_keras import export

RECOMMEND = "recommend"
SERVING_DEFAULT = "serving_default"


def pad_histories(histories: Sequence[Sequence[str]]) -> list[list[str]]:
    width = max((len(h) for h in histories), default=0)
    return [[""] * (width - len(h)) + list(h) for h in histories]


def history_examples(histories: Sequence[Sequence[str]]) -> list[bytes]:
    """Serialized tf.Examples with the `history` feature, for `serving_default`."""
    return [
        tf.train.Example(
            features=tf.train.Features(
                feature={
                    export.HISTORY: tf.train.Feature(
                        bytes_list=tf.train.BytesList(value=[i.encode() for i in h])
                    )
                }
            )
        ).SerializeToString()
        for h in histories
    ]


def predict_request(
    histories: Sequence[Sequence[str]],
    model_name: str = "sair",
    signature: str = RECOMMEND,
    version: int | None = None,
) -> predict_pb2.PredictRequest:
    """A gRPC PredictRequest for `recommend` (a `history` string matrix) or
    `serving_default` (an `examples` vector of serialized tf.Examples)."""
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model_name
    request.model_spec.signature_name = signature
    if version is not None:
        request.model_spec.version.value = version
    if signature == RECOMMEND:
        request.inputs[export.HISTORY].CopyFrom(
            tf.make_tensor_proto(pad_histories(histories), dtype=tf.string)
        )
    elif signature == SERVING_DEFAULT:
        request.inputs["examples"].CopyFrom(
            tf.make_tensor_proto(history_examples(histories), dtype=tf.string)
        )
    else:
        raise ValueError(f"predict_request: no request layout for signature {signature!r}")
    return request


def rest_body(histories: Sequence[Sequence[str]], signature: str = RECOMMEND) -> dict[str, Any]:
    """The JSON body of `POST /v1/models/<name>:predict` (columnar "inputs" format).
    Binary tf.Examples go base64-encoded as `{"b64": ...}`, as TF Serving's REST API wants."""
    if signature == RECOMMEND:
        inputs: dict[str, Any] = {export.HISTORY: pad_histories(histories)}
    elif signature == SERVING_DEFAULT:
        import base64

        inputs = {
            "examples": [{"b64": base64.b64encode(e).decode()} for e in history_examples(histories)]
        }
    else:
        raise ValueError(f"rest_body: no request layout for signature {signature!r}")
    return {"signature_name": signature, "inputs": inputs}


def request_inputs(request: predict_pb2.PredictRequest) -> dict[str, tf.Tensor]:
    """What TF Serving feeds the signature for a PredictRequest."""
    return {k: tf.constant(tf.make_ndarray(v)) for k, v in request.inputs.items()}


def rest_inputs(body: dict[str, Any]) -> dict[str, tf.Tensor]:
    """What TF Serving feeds the signature for a REST body (columnar format)."""
    import base64

    def decode(value):
        if isinstance(value, dict) and set(value) == {"b64"}:
            return base64.b64decode(value["b64"])
        if isinstance(value, list):
            return [decode(v) for v in value]
        return value

    return {k: tf.constant(decode(v)) for k, v in body["inputs"].items()}
