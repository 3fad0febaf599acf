"""Package a GGUF as an MLflow model that `mlflow models serve` can run offline.

The model's code is ``registry/pyfunc.py``; the GGUF travels as its artifact.
Everything MLflow would otherwise work out for itself is given explicitly, so
that logging neither loads the model nor runs pip or uv against a package
index: the pip requirements are pinned from the installed packages and the
signature is written out here rather than inferred from an example.
"""

from __future__ import annotations

import warnings
from importlib import metadata
from pathlib import Path

from registry.errors import ArtifactError

MODEL_CODE = Path(__file__).with_name("pyfunc.py")
# What registry/pyfunc.py imports, and numpy, on whose version both
# llama-cpp-python and pandas depend.
SERVED_PACKAGES = ("mlflow", "llama-cpp-python", "pandas", "numpy")


def log_gguf_model(model_path: Path, name: str):
    """Log ``model_path`` as a pyfunc model of the active run.

    Returns MLflow's ``ModelInfo``; the GGUF lies under ``artifacts/`` of the
    logged model's folder.
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    from registry.pyfunc import GGUF_ARTIFACT

    requirements = pinned_requirements()
    with warnings.catch_warnings():
        # MLflow advises an input example to check the signature against; the
        # example would run the model at logging time, so the advice is noise.
        warnings.filterwarnings("ignore", ".*input example", category=UserWarning)
        try:
            return mlflow.pyfunc.log_model(
                name=name,
                python_model=str(MODEL_CODE),
                artifacts={GGUF_ARTIFACT: str(model_path)},
                signature=model_signature(),
                pip_requirements=requirements,
            )
        except (MlflowException, OSError) as exc:
            raise ArtifactError(
                f"cannot store {model_path.name} as an MLflow model ({exc}); check "
                "that the file is readable and the artifact store is reachable, "
                "then register again."
            ) from exc


def model_signature():
    """Questions or chat messages in, one answer text out, OpenAI parameters.

    The scoring server passes a request's ``max_tokens`` and ``temperature`` on
    to the model only because the signature declares them.
    """
    from mlflow.models import ModelSignature
    from mlflow.types.schema import (
        Array,
        ColSpec,
        DataType,
        Object,
        ParamSchema,
        ParamSpec,
        Property,
        Schema,
    )

    from registry.pyfunc import DEFAULT_MAX_TOKENS, DEFAULT_TEMPERATURE

    message = Object(
        [Property("role", DataType.string), Property("content", DataType.string)]
    )
    return ModelSignature(
        inputs=Schema(
            [
                ColSpec(DataType.string, "question", required=False),
                ColSpec(Array(message), "messages", required=False),
            ]
        ),
        outputs=Schema([ColSpec(DataType.string)]),
        params=ParamSchema(
            [
                ParamSpec("max_tokens", DataType.long, DEFAULT_MAX_TOKENS),
                ParamSpec("temperature", DataType.double, DEFAULT_TEMPERATURE),
            ]
        ),
    )


def pinned_requirements() -> list[str]:
    """``name==version`` for each package the served model needs, as installed."""
    pins = []
    for name in SERVED_PACKAGES:
        try:
            pins.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError as exc:
            raise ArtifactError(
                f"cannot package the GGUF as an MLflow model: '{name}' is not "
                "installed, so its version cannot be pinned; run `make install`."
            ) from exc
    return pins
