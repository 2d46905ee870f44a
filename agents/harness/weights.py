"""Trained weights in a standard format: ``weights.safetensors`` and ``weights.json`` beside ``final.pt``.

When a unit finishes, the runner writes into ``<unit>/checkpoints/``::

    weights.safetensors   the learners' model state dicts, tensors named learner_<i>.<parameter name>
    weights.json          its sha256 and size, the algorithm, condition, seed, hyperparameters,
                          package version, and a five-line snippet that loads it

A safetensors file holds only a JSON header and raw tensor bytes: it cannot carry code by
construction, so anyone can load it with the standard tools (``safetensors.torch.load_file``)
without trusting this package. It holds the weights only: resuming a run keeps using
``checkpoints/last.pt`` and ``final.pt`` (:mod:`agents.harness.checkpoint`), which also hold
the optimiser and random-generator states that make a resumed run exact.

:func:`load_weights` reads the file back as ``{"learner_<i>": state_dict}`` after checking its
sha256 against ``weights.json``: a damaged or edited file is refused with one line naming it.
"""
from __future__ import annotations

import hashlib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Union

from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from agents.files import write_bytes_atomic
from agents.harness.checkpoint import read_json, write_json
from agents.harness.run_folder import git_state

WEIGHTS_FILE = "weights.safetensors"
WEIGHTS_INFO_FILE = "weights.json"
#: Version of ``weights.safetensors`` (its tensor names) and ``weights.json`` (its keys), stored as
#: their ``"format"``; independent of the checkpoints' versions (:mod:`agents.harness.checkpoint`).
WEIGHTS_FORMAT = 1
#: How to load the weights without this package (kept in ``weights.json``; docs/reproduce.md shows it too).
LOAD_SNIPPET = [
    "from safetensors.torch import load_file",
    "tensors = load_file('weights.safetensors')  # no code is run: safetensors holds tensors only",
    "learners = {}",
    "for name, tensor in tensors.items():  # learner_<i>.<parameter name>",
    "    learners.setdefault(name.split('.', 1)[0], {})[name.split('.', 1)[1]] = tensor",
]


def _package_version() -> str:
    try:
        return version("ipd-env")
    except PackageNotFoundError:  # run from a checkout that is not installed
        import ipd_env

        return ipd_env.__version__


def learner_tensors(models) -> dict:
    """``{"learner_<i>.<parameter name>": tensor}`` of the learners' model state dicts ``models`` (a trainer's
    ``state_dict()["models"]``), as contiguous CPU copies (safetensors stores neither devices nor shared memory)."""
    return {f"learner_{index}.{name}": tensor.detach().to("cpu", copy=True).contiguous()
            for index, state in enumerate(models) for name, tensor in state.items()}


def write_weights(directory: Union[str, Path], trainer, config: dict) -> Path:
    """Write ``weights.safetensors`` and ``weights.json`` (module docstring) into ``directory``; returns the
    safetensors path.

    Args:
        directory: the folder of ``final.pt`` (a unit's ``checkpoints/``).
        trainer: the finished trainer (anything whose ``state_dict()`` has ``"models"``: a list of
            model state dicts, one per learner).
        config: the unit's ``config.json`` (:meth:`agents.harness.runner.Unit.record`).
    """
    directory = Path(directory)
    models = trainer.state_dict()["models"]
    tensors, num_learners = learner_tensors(models), len(models)
    metadata = {"format": f"ipd-env weights {WEIGHTS_FORMAT}", "algo": str(config.get("algo")),
                "condition": str(config.get("condition")), "seed": str(config.get("seed")),
                "num_learners": str(num_learners), "version": _package_version()}
    data = save_safetensors(tensors, metadata=metadata)
    path = directory / WEIGHTS_FILE
    write_bytes_atomic(path, data)
    write_json(directory / WEIGHTS_INFO_FILE, {
        "format": WEIGHTS_FORMAT,
        "file": WEIGHTS_FILE,
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "tensors": "learner_<i>.<parameter name>: the state dict of learner i's model",
        "num_learners": num_learners,
        "algo": config.get("algo"),
        "experiment": config.get("experiment"),
        "condition": config.get("condition"),
        "seed": config.get("seed"),
        "preset": config.get("preset"),
        "pool_mode": config.get("pool_mode"),
        "hyperparameters": config.get("hyperparameters"),
        "settings": config.get("settings"),
        "package": {"name": "ipd-env", "version": _package_version(), "git": git_state()},
        "load": LOAD_SNIPPET,
        "load_with_this_package": "agents.harness.weights.load_weights(path)  # the sha256 checked first",
        "resume": "weights only: resuming uses checkpoints/final.pt and last.pt (optimiser and generator states)",
    })
    return path


def load_weights(path: Union[str, Path]) -> dict:
    """``{"learner_<i>": state_dict}`` from a ``weights.safetensors`` (or a folder holding one, directly or
    in ``checkpoints/``), after its size and sha256 were checked against the ``weights.json`` beside it.

    Raises:
        FileNotFoundError: no such file.
        ValueError: one line naming the file: damaged or edited (size or sha256 differs from
            ``weights.json``), ``weights.json`` missing or unreadable, or not our layout.
    """
    path = Path(path)
    if path.is_dir():
        path = next((candidate for candidate in (path / WEIGHTS_FILE, path / "checkpoints" / WEIGHTS_FILE)
                     if candidate.is_file()), path / WEIGHTS_FILE)
    if not path.is_file():
        raise FileNotFoundError(f"weights {path} are missing")
    info_path = path.with_name(WEIGHTS_INFO_FILE)
    if not info_path.is_file():
        raise ValueError(f"cannot verify weights {path}: {info_path}, which holds their sha256, is missing")
    info = read_json(info_path)
    if not isinstance(info, dict) or not isinstance(info.get("sha256"), str):
        raise ValueError(f"cannot verify weights {path}: {info_path} holds no sha256")
    data = path.read_bytes()
    if len(data) != info.get("bytes", len(data)) or hashlib.sha256(data).hexdigest() != info["sha256"]:
        raise ValueError(f"weights {path} are damaged or edited: their sha256 differs from the one {info_path} "
                         f"recorded when they were written; restore them from a copy")
    try:
        tensors = load_safetensors(data)
    except (SafetensorError, ValueError) as error:
        raise ValueError(f"weights {path} cannot be read as safetensors: {str(error).splitlines()[0]}") from None
    learners: dict = {}
    for name, tensor in tensors.items():
        learner, _, parameter = name.partition(".")
        if not (learner.startswith("learner_") and learner[len("learner_"):].isdigit() and parameter):
            raise ValueError(f"weights {path} hold a tensor {name!r}, not named learner_<i>.<parameter name>")
        learners.setdefault(learner, {})[parameter] = tensor
    return {name: learners[name] for name in sorted(learners, key=lambda name: int(name[len("learner_"):]))}
