"""gRPC and REST requests, fed through the exported model's signatures as TF Serving would."""

import base64
import json

import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2

from sair_keras import export, serving_requests
from sair_keras.catalog import Catalog
from sair_keras.config import ModelConfig
from sair_keras.model import build_model

HISTORIES = [["3", "7", "11"], ["20", "nope", "4", "9", "1"]]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    catalog = Catalog.synthetic(30, 4)
    model = build_model(catalog, ModelConfig(max_len=6, hidden_dim=8, num_interests=4, top_k=2))
    path = str(tmp_path_factory.mktemp("serving") / "1")
    export.export_serving_model(model, catalog, path, top_n=5)
    loaded = tf.saved_model.load(path)
    direct = loaded.signatures["recommend"](
        history=tf.constant(serving_requests.pad_histories(HISTORIES))
    )
    return loaded, direct


@pytest.mark.parametrize("signature", ["recommend", "serving_default"])
def test_grpc_predict_request_through_the_signature(served, signature):
    loaded, direct = served
    request = serving_requests.predict_request(HISTORIES, "sair", signature, version=1)
    # What reaches the server: the serialized request.
    received = predict_pb2.PredictRequest.FromString(request.SerializeToString())
    assert received.model_spec.name == "sair"
    assert received.model_spec.signature_name == signature
    assert received.model_spec.version.value == 1
    sig = loaded.signatures[received.model_spec.signature_name]
    out = sig(**serving_requests.request_inputs(received))
    np.testing.assert_array_equal(out["item_ids"].numpy(), direct["item_ids"].numpy())
    np.testing.assert_allclose(out["scores"].numpy(), direct["scores"].numpy(), rtol=1e-6)


@pytest.mark.parametrize("signature", ["recommend", "serving_default"])
def test_rest_body_through_the_signature(served, signature):
    loaded, direct = served
    body = json.loads(json.dumps(serving_requests.rest_body(HISTORIES, signature)))
    assert body["signature_name"] == signature
    out = loaded.signatures[body["signature_name"]](**serving_requests.rest_inputs(body))
    np.testing.assert_array_equal(out["item_ids"].numpy(), direct["item_ids"].numpy())


def test_rest_examples_are_base64_and_histories_left_padded():
    body = serving_requests.rest_body([["a"], ["b", "c"]], "serving_default")
    first = tf.train.Example.FromString(base64.b64decode(body["inputs"]["examples"][0]["b64"]))
    assert list(first.features.feature["history"].bytes_list.value) == [b"a"]
    assert serving_requests.rest_body([["a"], ["b", "c"]])["inputs"]["history"] == [
        ["", "a"],
        ["b", "c"],
    ]


def test_unknown_signature_is_refused():
    with pytest.raises(ValueError, match="'score'"):
        serving_requests.predict_request(HISTORIES, signature="score")
