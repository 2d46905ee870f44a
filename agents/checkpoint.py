"""A run folder's files: config, metrics CSV, atomic checkpoints. Shared by A2C and PPI.

Layout of one unit of work (one algorithm x experiment condition x seed)::

    <out>/<condition>/seed_<k>/
        config.json            what was asked for (compared on --resume)
        metrics.csv            one row per training unit (iteration or phase)
        tb/                    TensorBoard events of the same metrics
        checkpoints/last.pt    latest complete checkpoint (atomic: tmp file + os.replace)
        checkpoints/final.pt   the trained learners' state after the last unit
        eval.json              within-episode evaluation; its presence marks the unit done

Checkpoints hold only tensors and plain Python, loaded with
``torch.load(..., weights_only=True)`` so that loading never runs code.
"""
from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Optional

import torch

CHECKPOINT_FORMAT = 1


def write_atomic(path: Path, write) -> None:
    """Write ``path`` through ``write(tmp_path)`` and an ``os.replace``: never a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)


def write_json(path: Path, data) -> None:
    def write(tmp):
        with open(tmp, "w") as handle:
            json.dump(data, handle, indent=2, sort_keys=False)
            handle.write("\n")
    write_atomic(path, write)


def read_json(path: Path):
    with open(path) as handle:
        return json.load(handle)


def save_checkpoint(path: Path, state: dict) -> None:
    """``torch.save`` through a temp file and ``os.replace``."""
    write_atomic(path, lambda tmp: torch.save(state, tmp))


def load_checkpoint(path: Path, map_location="cpu") -> dict:
    """Load a checkpoint with ``weights_only=True``.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file is truncated, corrupt or not one of our checkpoints.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} is missing")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # torch raises several types for damaged files
        raise ValueError(f"checkpoint {path} is corrupt or truncated and cannot be loaded: {error}") from error
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a run checkpoint of format {CHECKPOINT_FORMAT}")
    return state


def config_differences(saved: dict, requested: dict, prefix: str = "") -> list:
    """Keys whose values differ between two JSON-like dicts, as readable lines."""
    lines = []
    for key in sorted(set(saved) | set(requested), key=str):
        name = f"{prefix}{key}"
        old, new = saved.get(key, "<absent>"), requested.get(key, "<absent>")
        if isinstance(old, dict) and isinstance(new, dict):
            lines += config_differences(old, new, prefix=f"{name}.")
        elif old != new:
            lines.append(f"{name}: folder has {old!r}, requested {new!r}")
    return lines


class MetricsLog:
    """``metrics.csv`` with one row per unit; the column set is fixed by the first row.

    On resume the file is rewritten from the checkpoint's history (rows after the
    checkpoint would be recomputed identically).
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.columns: Optional[list] = None

    def rewrite(self, history: list) -> None:
        self.columns = None
        def write(tmp):
            with open(tmp, "w", newline="") as handle:
                if history:
                    writer = csv.DictWriter(handle, fieldnames=list(history[0]), extrasaction="ignore")
                    writer.writeheader()
                    writer.writerows(history)
        write_atomic(self.path, write)
        if history:
            self.columns = list(history[0])

    def append(self, row: dict) -> None:
        new = self.columns is None
        if new:
            self.columns = list(row)
        with open(self.path, "a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=self.columns, extrasaction="ignore")
            if new:
                writer.writeheader()
            writer.writerow(row)
            handle.flush()


def read_metrics(path: Path) -> list:
    """Rows of a ``metrics.csv`` as dicts of floats (empty cells dropped)."""
    rows = []
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            rows.append({key: float(value) for key, value in row.items() if value not in ("", None)})
    return rows


def load_trained_models(unit_dir, model_states, build_model, device="cpu") -> list:
    """Models rebuilt by ``build_model()`` and filled from ``model_states``, in eval mode on ``device``.

    Raises ``ValueError`` naming the folder when a state does not fit the model its config describes.
    """
    models = []
    for model_state in model_states:
        model = build_model()
        try:
            model.load_state_dict(model_state)
        except RuntimeError as error:
            raise ValueError(f"{unit_dir}: checkpoint does not match its config's model shape: {error}") from error
        models.append(model.to(device).eval())
    return models
