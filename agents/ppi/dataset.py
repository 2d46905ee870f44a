"""PPI's growing data set, stored on disk one phase at a time.

PPI re-trains its model every phase on *all* episodes so far (the pretraining set D_0
plus every phase's collection). Each learner's episodes are kept as compact arrays:

* ``outcomes``: ``[E, T]`` uint8, the first-person observation after each round
  (``1 + 2 * own + other``; ``ipd_env.game``). Everything the model needs follows from it:
  the observations seen are ``START, outcomes[:, :-1]``, the own actions are
  ``(outcomes - 1) // 2`` and the rewards are the payoff table looked up at the outcome;
* ``co_player_kind``: ``[E]`` uint8 (see :data:`CO_PLAYER_KINDS`);
* ``identity``: ``[E, 10]`` float32, the opponent-ID vector (only where the condition uses it).

Layout of a data folder::

    manifest.json                  config fingerprint + one entry per stored phase file
    learner_0/phase_000.npz        D_0 (pretraining) of learner 0, compressed
    learner_0/phase_001.npz        episodes collected by learner 0 in phase 0
    ...

A phase file is written to a temporary name and renamed (atomic), then recorded in the
manifest with its size and sha256, also written atomically. Opening a folder made with a
different config, or reading a phase whose file is missing, truncated or altered, raises
``DataSetError`` naming the file and what is wrong; nothing is ever deleted.
"""
from __future__ import annotations

import hashlib
import json
import os
import zipfile
from typing import Optional

import numpy as np
import torch

from agents.files import write_atomic, write_bytes_atomic
from agents.legacy_names import current_name
from ipd_env.game import START, make_payoff_table, rewards_by_observation
from ipd_env.memory_one import IDENTITY_SIZE

MANIFEST = "manifest.json"
#: Name of each ``co_player_kind`` code, indexed by the code: agents.pool.KIND_LEARNER/TABULAR/FROZEN = 0/1/2,
#: collect.KIND_RANDOM = 3.
CO_PLAYER_KINDS = ("learner", "tabular", "frozen", "random")


class DataSetError(ValueError):
    """A PPI data folder cannot be used as asked (different config, missing or corrupt file)."""


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class EpisodeStore:
    """Per-learner, per-phase episode files under one folder, tied to one config.

    Nothing is written until the first phase is saved (then the folder and its manifest
    appear), so opening a store has no effect on disk.

    Args:
        folder: the data folder.
        config: JSON-serialisable dict of everything that decides the data (condition,
            seed, payoffs, rounds, episode counts, ...). Reopening the folder with a
            different config raises :class:`DataSetError` listing the differing keys.
            None reopens a stored folder with the config it was made with (a finished
            run's data, to read), and raises :class:`DataSetError` if it has no manifest.
    """

    def __init__(self, folder: str, config: Optional[dict] = None):
        self.folder = folder
        self._manifest_path = os.path.join(folder, MANIFEST)
        manifest = self._read_manifest() if os.path.exists(self._manifest_path) else None
        if config is None:
            if manifest is None or "config" not in manifest:
                raise DataSetError(f"PPI data folder {folder} has no readable {MANIFEST}, so its data cannot be "
                                   f"reopened")
            config = manifest["config"]
        self.config = json.loads(json.dumps(config))  # normalise tuples -> lists
        self._files = {}
        if manifest is not None:
            stored = manifest.get("config")
            if stored != self.config:
                keys = sorted(set(stored or {}) | set(self.config))
                differing = [key for key in keys if (stored or {}).get(key) != self.config.get(key)]
                details = "; ".join(f"{key}: stored {(stored or {}).get(key)!r}, asked {self.config.get(key)!r}"
                                    for key in differing)
                raise DataSetError(
                    f"PPI data folder {folder} was made with a different config ({details}); "
                    "use another --out folder or the original settings (nothing was changed)"
                )
            self._files = manifest.get("files", {})

    def _read_manifest(self) -> dict:
        try:
            with open(self._manifest_path) as handle:
                return json.load(handle)
        except (OSError, json.JSONDecodeError) as error:
            raise DataSetError(f"PPI data manifest {self._manifest_path} is unreadable: {error}") from error

    def _write_manifest(self) -> None:
        payload = json.dumps({"config": self.config, "files": self._files}, indent=1, sort_keys=True)
        write_bytes_atomic(self._manifest_path, payload.encode())

    @staticmethod
    def _key(learner: int, phase: int) -> str:
        return f"learner_{learner}/phase_{phase:03d}.npz"

    def has_phase(self, learner: int, phase: int) -> bool:
        return self._key(learner, phase) in self._files

    def save_phase(self, learner: int, phase: int, episodes: dict) -> None:
        """Store one phase of one learner: ``episodes`` holds numpy or torch arrays (see module doc)."""
        arrays = {name: (value.cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value))
                  for name, value in episodes.items()}
        outcomes = arrays["outcomes"]
        if outcomes.ndim != 2 or outcomes.size and (outcomes.min() < 1 or outcomes.max() > 4):
            raise ValueError(f"outcomes must be [E, T] with values 1..4, got shape {outcomes.shape}")
        arrays["outcomes"] = outcomes.astype(np.uint8)
        arrays["co_player_kind"] = arrays["co_player_kind"].astype(np.uint8)
        if "identity" in arrays:
            arrays["identity"] = arrays["identity"].astype(np.float32)
        key = self._key(learner, phase)
        path = os.path.join(self.folder, key)
        os.makedirs(os.path.dirname(path), exist_ok=True)

        def write(tmp):  # flushed to disk before the rename, as every other file of a run folder
            with open(tmp, "wb") as handle:
                np.savez_compressed(handle, **arrays)
                handle.flush()
                os.fsync(handle.fileno())

        write_atomic(path, write)
        self._files[key] = {
            "episodes": int(outcomes.shape[0]),
            "rounds": int(outcomes.shape[1]),
            "bytes": os.path.getsize(path),
            "sha256": _sha256(path),
        }
        self._write_manifest()

    def load_phase(self, learner: int, phase: int) -> dict[str, np.ndarray]:
        """Read and verify one stored phase, its arrays named as today (:mod:`agents.legacy_names`: a file
        written before the co_player rename names its kind array the old way); raises
        :class:`DataSetError` if missing or corrupt."""
        key = self._key(learner, phase)
        path = os.path.join(self.folder, key)
        entry = self._files.get(key)
        if entry is None:
            raise DataSetError(
                f"PPI data folder {self.folder} has no phase {phase} for learner {learner} ({key} is not in "
                f"{MANIFEST}); stored: {sorted(self._files) or 'nothing'}"
            )
        if not os.path.exists(path):
            raise DataSetError(f"PPI phase file {path} is listed in {MANIFEST} but missing")
        size = os.path.getsize(path)
        if size != entry["bytes"] or _sha256(path) != entry["sha256"]:
            raise DataSetError(
                f"PPI phase file {path} is truncated or corrupt ({size} bytes, manifest says {entry['bytes']} "
                "and a different sha256); nothing was deleted: restore the file or start a new --out folder"
            )
        try:  # allow_pickle stays False: an object array (pickled code) is refused, naming the file
            with np.load(path, allow_pickle=False) as data:
                arrays = {current_name(name): data[name] for name in data.files}
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
            raise DataSetError(f"PPI phase file {path} cannot be read as plain arrays ({error}); nothing was "
                               f"deleted: restore the file or start a new --out folder") from None
        if "outcomes" not in arrays or "co_player_kind" not in arrays:
            raise DataSetError(f"PPI phase file {path} lacks the arrays outcomes and co_player_kind; "
                               f"found {sorted(arrays)}")
        if arrays["outcomes"].shape != (entry["episodes"], entry["rounds"]):
            raise DataSetError(f"PPI phase file {path} holds outcomes {arrays['outcomes'].shape}, manifest says "
                               f"({entry['episodes']}, {entry['rounds']})")
        return arrays

    def load(self, learner: int, num_phases: int) -> dict[str, np.ndarray]:
        """Phases ``0 .. num_phases - 1`` of one learner, concatenated along episodes."""
        parts = [self.load_phase(learner, phase) for phase in range(num_phases)]
        names = set.intersection(*(set(part) for part in parts))
        return {name: np.concatenate([part[name] for part in parts]) for name in sorted(names)}


class EpisodeBatcher:
    """Turns stored outcomes into the model's training tensors, one minibatch at a time.

    Only the uint8 arrays stay in memory (one byte per round); float tensors exist for
    one batch at a time.

    Args:
        episodes: arrays from :meth:`EpisodeStore.load`.
        payoffs: the game's payoff spec, to look rewards up from outcomes.
        uses_opponent_identity: include ``identity`` in the batches.
        device: where batches go.
    """

    def __init__(self, episodes: dict, payoffs="paper", uses_opponent_identity: bool = False, device="cpu"):
        self.outcomes = torch.from_numpy(np.ascontiguousarray(episodes["outcomes"]))  # [E, T] uint8
        if uses_opponent_identity and "identity" not in episodes:
            raise DataSetError("the model uses the opponent identity but the stored episodes have none")
        self.identity = torch.from_numpy(episodes["identity"]) if uses_opponent_identity else None
        if self.identity is not None and self.identity.shape[-1] != IDENTITY_SIZE:
            raise DataSetError(f"the stored episodes' opponent identities have {self.identity.shape[-1]} numbers; "
                               f"this package uses {IDENTITY_SIZE} (log pi(a | o)): the data set was made by an "
                               f"earlier version, start the run afresh")
        # The learner's (player_0's) reward by its outcome index 1 + 2 * own + other; 0 at START.
        lookup = rewards_by_observation(make_payoff_table(payoffs))[0].astype(np.float32)
        self.device = torch.device(device)
        self.reward_lookup = torch.from_numpy(lookup).to(self.device)

    @property
    def num_episodes(self) -> int:
        return self.outcomes.shape[0]

    def batch(self, episode_index: torch.Tensor) -> dict[str, torch.Tensor]:
        """Training batch for the episodes ``episode_index`` ``[B]``: time-major ``[T, B]`` tensors."""
        next_observation = self.outcomes[episode_index].to(self.device, torch.int64).t().contiguous()  # [T, B]
        observation = torch.cat([torch.full_like(next_observation[:1], START), next_observation[:-1]], dim=0)
        batch = {
            "observation": observation,
            "next_observation": next_observation,
            "action": torch.div(next_observation - 1, 2, rounding_mode="floor"),
            "reward": self.reward_lookup[next_observation],
        }
        if self.identity is not None:
            batch["identity"] = self.identity[episode_index].to(self.device)
        return batch

    def epoch(self, batch_size: int, generator: Optional[torch.Generator] = None):
        """Yield the batches of one shuffled pass (the last may be smaller)."""
        order = torch.randperm(self.num_episodes, generator=generator)
        for start in range(0, self.num_episodes, batch_size):
            yield self.batch(order[start:start + batch_size])
