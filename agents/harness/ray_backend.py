"""Run an experiment grid (conditions x seeds) as Ray tasks, locally or on a cluster (extra ``[ray]``).

Each (condition, seed) unit is one Ray task calling :func:`agents.harness.runner.train`, so it
writes the same run folder ``<out>/<condition>/seed_<k>/`` as the local backend; a unit
whose condition needs another (Step 2 freezes Step 1's learner, Step 3 starts from Step 2)
is handed that unit's task result, so Ray starts it only when its prerequisite is done.
When every task has finished, :func:`agents.harness.summary.aggregate` writes ``summary.json`` and
``plots/`` exactly as after a local run.

* Local (default): ``ray.init(num_cpus=...)`` starts a Ray on this machine.
* Cluster: ``address="ray://head:10001"`` (Ray Client) or ``"head:6379"`` (the GCS of a
  cluster this machine is part of). The address is probed with a plain TCP connection
  first (``connect_timeout_s``), so an unreachable cluster fails in seconds with a clear
  error instead of hanging. Every node needs ``ipd-env`` installed and ``out`` on a shared
  filesystem (the tasks write the run folders where they run).

A task whose worker dies is retried by Ray and resumes from the unit's last checkpoint.
Each task uses one CPU (``cpus_per_unit``) and sets torch to that many threads, so runs
on Ray give the same numbers as local runs with the same thread count.
"""
from __future__ import annotations

import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Callable, Optional, Union
from urllib.parse import urlparse

from agents.harness.runner import execute_plan, plan_experiment, train
from baselines.optional import import_optional

DEFAULT_CONNECT_TIMEOUT_S = 10.0


def _host_port(address: str) -> tuple:
    """``(host, port)`` of a Ray address: ``ray://host:10001``, ``host:6379`` or ``host`` (port 6379)."""
    parsed = urlparse(address if "://" in address else f"tcp://{address}")
    if not parsed.hostname:
        raise ValueError(f"cannot read a host from Ray address {address!r}; use ray://HOST:10001 or HOST:6379")
    default_port = 10001 if parsed.scheme == "ray" else 6379
    return parsed.hostname, parsed.port or default_port


def check_reachable(address: str, timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S) -> None:
    """Raise ``ConnectionError`` unless a TCP connection to the Ray address opens within ``timeout_s``."""
    host, port = _host_port(address)
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            pass
    except OSError as error:
        raise ConnectionError(
            f"cannot reach the Ray cluster at {address!r} ({host}:{port}) within {timeout_s:g} s: {error}. "
            "Check the address (ray://HEAD:10001 for Ray Client, HEAD:6379 for a node of the cluster) "
            "or leave --address out to run on a local Ray"
        ) from error


def connect(address: Optional[str] = None, num_cpus: Optional[int] = None,
            connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S):
    """Start or join Ray (reusing a session this process already has); returns the ``ray`` module."""
    ray = import_optional("ray", "ray", "the Ray backend (--backend ray)")
    if ray.is_initialized():
        return ray
    if address is None or address == "local":
        ray.init(num_cpus=num_cpus, include_dashboard=False, logging_level="ERROR")
    else:
        check_reachable(address, connect_timeout_s)
        ray.init(address=address, logging_level="ERROR")
    return ray


def _train_task(kwargs: dict, threads: int, *prerequisites_done):
    """Body of one Ray task: one unit, quiet (no progress bar), fixed torch threads."""
    import torch

    torch.set_num_threads(threads)
    evaluation = train(progress=False, **kwargs)
    unit = kwargs["unit"]
    return {"condition": unit.condition.name, "seed": unit.seed, "wall_time_s": evaluation.get("wall_time_s")}


def run_experiment_on_ray(
    experiment: str,
    algo: str = "a2c",
    preset: str = "cpu-quick",
    seeds: Union[int, Sequence[int]] = 3,
    out: Union[str, Path] = "runs",
    device: str = "cpu",
    resume: bool = False,
    overrides: Optional[dict] = None,
    conditions: Optional[Sequence[str]] = None,
    address: Optional[str] = None,
    num_cpus: Optional[int] = None,
    cpus_per_unit: int = 1,
    gpus_per_unit: float = 0.0,
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
    plots: bool = True,
    on_checked: Optional[Callable[[], None]] = None,
) -> dict:
    """The Ray twin of :func:`agents.harness.runner.run_experiment`: same arguments, same folders, same summary.

    Args:
        address: ``None`` for a local Ray, else a cluster address (see the module docstring).
        num_cpus: CPUs of the local Ray (default: all); ignored for a cluster.
        cpus_per_unit, gpus_per_unit: resources of each unit's task (``gpus_per_unit``
            > 0 with ``device="cuda"`` to place units on GPUs).
        on_checked: called once every check has passed, before the folder is locked.
    Returns:
        the summary written to ``<out>/summary.json``.
    """
    out = Path(out).resolve()  # workers do not share the driver's working directory
    plan = plan_experiment(experiment, algo, preset, seeds, out, device, resume, overrides, conditions)
    if on_checked is not None:
        on_checked()
    return execute_plan(plan, lambda plan: _run_units_on_ray(plan.units, plan.out, device, address, num_cpus,
                                                              cpus_per_unit, gpus_per_unit, connect_timeout_s),
                        plots=plots)


def _run_units_on_ray(units: dict, out: Path, device: str, address, num_cpus, cpus_per_unit: int,
                      gpus_per_unit: float, connect_timeout_s: float) -> None:
    """Every unit as a Ray task, each after the tasks of its prerequisites."""
    ray = connect(address, num_cpus, connect_timeout_s)
    task = ray.remote(num_cpus=cpus_per_unit, num_gpus=gpus_per_unit)(_train_task)
    submitted = {}
    for key, unit in units.items():  # in prerequisite order, so prerequisites are submitted first
        needs = [submitted[(name, unit.seed)] for name in unit.condition.prerequisites]
        # resume=True inside the tasks: the folders were checked by the plan, so a folder a task
        # finds is its own from an earlier attempt (Ray retries a task whose worker died),
        # and it continues from that attempt's last checkpoint.
        kwargs = dict(unit=unit, out=str(out), device=device, resume=True)
        submitted[key] = task.remote(kwargs, max(1, int(cpus_per_unit)), *needs)
    ray.get(list(submitted.values()))
