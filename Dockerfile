# The pipeline image for Kubeflow Pipelines v2 / Vertex AI Pipelines and Dataflow workers.
#
#   docker build -t REGION-docker.pkg.dev/PROJECT/REPO/sair-tfx:VERSION .
#   docker push REGION-docker.pkg.dev/PROJECT/REPO/sair-tfx:VERSION
#
# Every component of the compiled pipeline runs in this image (TFX's KubeflowV2 launcher is
# part of the tfx package), and Dataflow runs the Beam-based components' workers in it when
# the Beam args say `--sdk_container_image=<this image>`; see docs/RUNNERS.md.
# The same pinned requirements as the local `.venv/` (requirements.lock), then the project
# from setup.py, so `sair_keras.ranking` (the Evaluator's custom metrics) and
# `sair_keras.trainer_module.run_fn` import in every container.
FROM python:3.10-slim

ENV TF_USE_LEGACY_KERAS=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /pipeline

COPY requirements.lock ./
RUN pip install --upgrade pip && pip install -r requirements.lock

# Beam's portable SDK harness, so this image can also serve as Dataflow's worker image.
COPY --from=apache/beam_python3.10_sdk:2.74.0 /opt/apache/beam /opt/apache/beam

COPY setup.py README.md requirements.in ./
COPY components ./components
COPY pipeline ./pipeline
COPY sair_keras ./sair_keras
COPY pipeline_runner.py ./
RUN pip install --no-deps . && python -c "import sair_keras.ranking, sair_keras.trainer_module, components.sequence_gen.executor"

ENTRYPOINT ["/opt/apache/beam/boot"]
