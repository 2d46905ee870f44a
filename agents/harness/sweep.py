"""Hyperparameter sweeps: one experiment per grid point, then a table and heatmaps (``ipd-coop sweep``).

A sweep runs the experiment that ``ipd-coop reproduce`` runs once per point of a grid of
hyperparameter values (any field of the algorithm's config: ``entropy_coef``, ``pool``,
``learning_rate`` ...), each point into its own experiment folder, so everything that
reads an experiment folder (``summary.json``, ``plots/``, ``ipd-coop evaluate``) reads a
point too::

    <out>/
        sweep_request.json           what was asked for (compared on --resume)
        entropy_coef=0.01,pool=uniform/     one experiment folder per point (agents.harness.runner layout)
            step1/seed_0/ ...  summary.json  plots/
        entropy_coef=0.1,pool=uniform/
        sweep.json                   per point: its settings and the summary's figures (mean, std over seeds)
        sweep.md                     the points as a table, sorted by one metric
        sweep_<metric a>_<metric b>.png     heatmaps of two metrics over the first two grid axes
        tune/                        Ray Tune's experiment state (backend "ray" only)

A point is one :class:`agents.harness.runner.ExperimentPlan` (:func:`agents.harness.runner.plan_experiment`
with the point's settings on top of ``--set``): its units and its folder are checked as
``reproduce`` checks them, and it is opened (locked, recorded, provenance) and summarised
as ``reproduce`` does. The backends differ only in how the units are trained:

* ``"local"``: the units of all unfinished points go to one process pool
  (:func:`agents.harness.runner.run_unit_jobs`, the scheduler of ``reproduce --workers``),
  each run with one torch thread by default; a point's ``summary.json`` is written as soon
  as its last unit is done.
* ``"ray"``: Ray Tune runs one trial per point (``tune.grid_search`` over the points; each
  trial reserves ``threads`` CPUs and runs its point's units in-process) and reports
  the point's figures to Tune's result table; resume is ``Tuner.restore``.

Both backends write the same point folders and the same ``sweep.json``. A killed sweep
continues with ``resume=True``: finished points are left untouched, unfinished units
continue from their last checkpoint.

Metric names in ``sweep.json`` are paths into a point's ``summary.json``:
``<condition>/evaluation/<opponent>/<key>`` (``step1/evaluation/tft/late_reward``,
``step1/evaluation/pool/gain_fraction``), ``<condition>/training/<metric>`` and
``<condition>/wall_time_s``; every ``{"mean", "std"}`` entry the summary has is taken, so
new summary figures show up without changes here. Where a name is asked for (``sort``,
``heatmap``), a suffix such as ``pool/gain_fraction`` names the last condition that has it.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import itertools
import json
import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Union

from agents.harness.algorithms import get_algorithm
from agents.harness.checkpoint import config_differences, read_json, write_json
from agents.harness.run_folder import (
    PROVENANCE_FILE,
    check_contents,
    check_unlocked,
    is_empty,
    locked,
    record_provenance,
)
from agents.harness.runner import (
    UNIT_RECORD_BYTES,
    ExperimentPlan,
    UnitError,
    check_units_fit,
    experiment_units,
    plan_experiment,
    run_unit_jobs,
    seed_list,
)
from agents.legacy_names import current_name
from ipd_env.sizes import check_fits

BACKENDS = ("local", "ray")
REQUEST_FILE = "sweep_request.json"
#: Default ranking: the in-context gain against the pool if the summary has it, else the late reward vs TFT.
DEFAULT_METRICS = ("evaluation/pool/gain_fraction", "evaluation/tft/late_reward")
#: Columns of ``sweep.md`` besides the grid, the sort metric and the heatmap metrics (where present).
TABLE_METRICS = DEFAULT_METRICS + ("evaluation/tft/late_cooperation", "evaluation/alld/late_reward")
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]")
MAX_NAME_LENGTH = 120


# ---------------------------------------------------------------------------- the grid
def parse_value(text: str):
    """A setting's value as ``--set`` reads it: JSON when it parses (``0.1``, ``true``, ``[1, 2]``), else the text."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_grid(items: Sequence[str]) -> dict:
    """``["entropy_coef=0.01,0.1", "pool=uniform;beta:0.5,0.5"]`` -> ``{name: [values]}`` (in order).

    Values are separated by ``,``, or by ``;`` when the text has one (so a value may hold
    commas: ``pool=uniform;beta:0.5,0.5``; one such value alone takes a trailing ``;``:
    ``pool=beta:0.5,0.5;``). Each value is parsed by :func:`parse_value`.

    Raises:
        ValueError: an item without ``NAME=``, no values, an empty value, a name given twice.
    """
    grid = {}
    for item in items:
        name, separator, text = str(item).partition("=")
        name = name.strip()
        if not separator or not name:
            raise ValueError(f"--grid expects NAME=V1,V2,... (or NAME=V1;V2;... when values hold commas), got {item!r}")
        if name in grid:
            raise ValueError(f"--grid {name} is given twice; put all its values in one --grid {name}=V1,V2,...")
        if ";" in text:
            tokens = text.split(";")
            if tokens[-1].strip() == "" and len(tokens) == 2 and "," in tokens[0]:  # "beta:0.5,0.5;" is one value
                tokens = tokens[:-1]
        else:
            tokens = text.split(",")
        if not text.strip() or not tokens:
            raise ValueError(f"--grid {name}= has no values; give at least one, e.g. --grid {name}=V1,V2")
        if any(token.strip() == "" for token in tokens):
            raise ValueError(f"--grid {item!r} has an empty value; separate values by ',' (or ';' when they hold "
                             f"commas; a trailing ';' only marks one value that holds commas: {name}=beta:0.5,0.5;)")
        grid[name] = [parse_value(token.strip()) for token in tokens]
    return grid


@dataclass(frozen=True)
class SweepPoint:
    """One grid point: its folder name under the sweep folder and its settings ``{name: value}``."""

    name: str
    settings: dict


def value_text(value) -> str:
    """A value as written in point names and tables: strings as they are, the rest as compact JSON."""
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def grid_points(grid: dict) -> list:
    """Every combination of the grid's values (first axis slowest), each with a filesystem-safe folder name.

    The name is ``name1=v1,name2=v2`` with every character outside ``A-Za-z0-9._+-`` of a
    value replaced by ``_`` (``pool=beta:0.5,0.5`` -> ``pool=beta_0.5_0.5``); where two
    points would get the same name, or a name is longer than 120 characters, a short hash
    of the settings is appended.
    """
    if not isinstance(grid, dict) or not grid:
        raise ValueError("a sweep needs a grid: at least one NAME=V1,V2,... (--grid)")
    for name, values in grid.items():
        if not isinstance(values, (list, tuple)) or len(values) == 0:
            raise ValueError(f"grid {name!r} has no values; give a non-empty list")
    settings_list = [dict(zip(grid, values)) for values in itertools.product(*grid.values())]
    names = [",".join(f"{_UNSAFE.sub('_', name)}={_UNSAFE.sub('_', value_text(value))}"
                      for name, value in settings.items()) for settings in settings_list]
    clashing = {name for name in names if names.count(name) > 1 or len(name) > MAX_NAME_LENGTH}
    for index, settings in enumerate(settings_list):
        if names[index] in clashing:
            digest = hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:8]
            names[index] = f"{names[index][:MAX_NAME_LENGTH]}~{digest}"
    if len(set(names)) != len(names):
        duplicates = sorted({name for name in names if names.count(name) > 1})
        raise ValueError(f"the grid repeats a point ({', '.join(duplicates)}); list each value once")
    return [SweepPoint(name, settings) for name, settings in zip(names, settings_list)]


# ---------------------------------------------------------------------------- the request
@dataclass(frozen=True)
class SweepRequest:
    """What a sweep was asked for, and where it runs; ``sweep_request.json`` keeps :meth:`record`."""

    experiment: str
    algo: str
    preset: str
    seeds: list
    """The seeds themselves (``[0, 1, 2]`` for ``seeds=3``)."""
    grid: dict
    """``{name: [values]}`` in the order given."""
    overrides: dict
    """Settings of every point (``--set``)."""
    backend: str
    out: Path
    """The sweep folder, absolute (Ray workers do not share this process's working directory)."""
    points: tuple
    """Every :class:`SweepPoint` of the grid, first axis slowest."""

    #: Keys of ``sweep_request.json`` that a resumed sweep must repeat.
    COMPARED = ("experiment", "algo", "preset", "seeds", "grid", "overrides")

    def compared(self) -> dict:
        """``{key: value}`` of :attr:`COMPARED`."""
        return {key: getattr(self, key) for key in self.COMPARED}

    def record(self) -> dict:
        """The content of ``sweep_request.json``: the compared keys and the points (name, settings)."""
        return self.compared() | {"points": [dataclasses.asdict(point) for point in self.points]}

    def point_overrides(self, point: SweepPoint) -> dict:
        """The settings a point runs with: ``--set``, then the point's grid values."""
        return {**self.overrides, **point.settings}


# ---------------------------------------------------------------------------- running
def plan_point(request: SweepRequest, point: SweepPoint, device: str = "cpu", resume: bool = False) -> ExperimentPlan:
    """The checked :class:`~agents.harness.runner.ExperimentPlan` of one grid point, in ``<out>/<point name>``.

    With ``resume``, a point whose folder exists continues it; one whose folder does not exist yet
    (the sweep was killed before it) starts there.

    Raises:
        ValueError: a bad value of the point, naming the point and the condition
            (``grid point entropy_coef=-1 (condition step1): ...``), or a point folder that
            holds something else.
    """
    folder = request.out / point.name
    try:
        return plan_experiment(request.experiment, request.algo, request.preset, request.seeds, folder, device,
                               resume=resume and folder.is_dir(), overrides=request.point_overrides(point))
    except UnitError as error:
        raise error.at_point(point.name) from None


def _run_local(plans: Sequence[ExperimentPlan], workers: int, threads: int, progress: bool, plots: bool) -> None:
    """The units of every (opened) plan through one scheduler; a plan is summarised when its last unit is done."""
    jobs, remaining = {}, {}
    by_folder = {plan.out: plan for plan in plans}
    for plan in plans:
        plan_jobs = plan.unit_jobs(progress)
        jobs.update(plan_jobs)
        remaining[plan.out] = len(plan_jobs)

    def on_done(key):
        folder = key[0]
        remaining[folder] -= 1
        if remaining[folder] == 0:
            by_folder[folder].summarise(plots)
            if progress:
                print(f"sweep: point {folder.name} done")

    run_unit_jobs(jobs, workers, threads, on_done=on_done)


def _tune_trial(config: dict, plans: dict, threads: int, plots: bool) -> None:
    """One Ray Tune trial: the point's units in this process (one after another), then its figures."""
    from ray import tune

    plan = plans[config["point"]]
    if plan.is_finished():
        summary = read_json(plan.out / "summary.json")
    else:
        # Trials continue what a killed attempt left (units resume from their last checkpoint):
        # the point's folder was checked and is held by the sweep's process.
        run_unit_jobs(dataclasses.replace(plan, resume=True).unit_jobs(progress=False), 1, threads)
        summary = plan.summarise(plots)
    figures = {name: entry["mean"] for name, entry in summary_metrics(summary).items()}
    tune.report({"point": config["point"], **figures})


def _run_on_tune(request: SweepRequest, plans: dict, threads: int, resume: bool, progress: bool, plots: bool,
                 address: Optional[str], num_cpus: Optional[int], gpus_per_point: float) -> None:
    from agents.harness.ray_backend import connect

    connect(address, num_cpus)
    from ray import tune

    trainable = tune.with_resources(tune.with_parameters(_tune_trial, plans=plans, threads=threads, plots=plots),
                                    {"cpu": threads, "gpu": gpus_per_point})
    storage = request.out / "tune"
    experiment_path = storage / "sweep"
    if resume and tune.Tuner.can_restore(str(experiment_path)):
        tuner = tune.Tuner.restore(str(experiment_path), trainable, resume_unfinished=True, restart_errored=True)
    else:
        tuner = tune.Tuner(trainable,
                           param_space={"point": tune.grid_search([point.name for point in request.points])},
                           run_config=tune.RunConfig(name="sweep", storage_path=str(storage),
                                                     verbose=1 if progress else 0))
    results = tuner.fit()
    if results.errors:
        raise RuntimeError(f"{len(results.errors)} sweep point(s) failed on Ray Tune (first: {results.errors[0]}); "
                           f"fix the cause and rerun with --resume")


# ---------------------------------------------------------------------------- figures
def summary_metrics(summary: dict) -> dict:
    """Every ``{"mean", "std"}`` figure of a summary as ``{"<condition>/<path>": {"mean", "std", "values"}}``."""
    metrics = {}

    def walk(prefix, value):
        if isinstance(value, dict):
            if "mean" in value and "std" in value:
                metrics[prefix] = {key: value[key] for key in ("mean", "std", "values") if key in value}
                return
            for key, item in value.items():
                walk(f"{prefix}/{key}", item)

    for condition, entry in summary.get("conditions", {}).items():
        walk(condition, entry)
    return metrics


def current_metric_name(name: str, argument: str) -> str:
    """``name`` (a ``--sort`` / ``--heatmap`` metric) in today's spelling: a name spelled as before the
    co_player rename is still taken, with a one-line ``FutureWarning`` giving today's."""
    current = current_name(name)
    if current != name:
        warnings.warn(f"{argument} {name!r} is the old spelling, still accepted; use {current!r}", FutureWarning,
                      stacklevel=3)
    return current


def resolve_metric(name: str, available: Sequence[str]) -> str:
    """A full metric name from ``name``: itself, or the one metric of the last condition ending in ``/name``."""
    if name in available:
        return name
    matches = [metric for metric in available if metric.endswith("/" + name)]
    if not matches:
        raise ValueError(f"no sweep metric {name!r}; known metrics: {', '.join(available)}")
    last_condition = matches[-1].split("/", 1)[0]
    matches = [metric for metric in matches if metric.split("/", 1)[0] == last_condition]
    if len(matches) > 1:
        raise ValueError(f"sweep metric {name!r} is ambiguous ({', '.join(matches)}); give the full name")
    return matches[0]


def _metric_templates(conditions: Sequence[str]) -> list:
    """What a sweep metric's name may be, one list of component tests per kind (see the module docstring)."""
    from agents.harness.summary import EVALUATION_KEYS

    condition = set(conditions).__contains__
    return [[condition, "wall_time_s".__eq__],
            [condition, "training".__eq__, lambda part: part.startswith("learner_vs_"),
             ("reward", "cooperation").__contains__],
            [condition, "evaluation".__eq__, bool, set(EVALUATION_KEYS).__contains__]]


def check_metric_name(name: str, conditions: Sequence[str], argument: str) -> None:
    """Refuse, before anything trains, a ``--sort`` / ``--heatmap`` name that no summary of these
    ``conditions`` can hold: a full name or the end of one (``tft/late_reward``). A name of the
    right form that the finished sweep lacks (an opponent no condition plays) is still refused
    after training, when ``sweep.json`` is already written."""
    parts = str(name).split("/")
    for template in _metric_templates(conditions):
        tail = template[len(template) - len(parts):] if len(parts) <= len(template) else None
        if tail is not None and all(test(part) for test, part in zip(tail, parts)):
            return
    from agents.harness.summary import EVALUATION_KEYS

    raise ValueError(f"{argument} {name!r} names no metric of this sweep; metrics are "
                     f"<condition>/evaluation/<opponent>/<key> (key: {', '.join(EVALUATION_KEYS)}), "
                     f"<condition>/training/learner_vs_<kind>/<reward|cooperation> and <condition>/wall_time_s "
                     f"(conditions: {', '.join(conditions)}), or their ends, e.g. tft/late_reward")


def default_metrics(available: Sequence[str], suffixes: Sequence[str] = DEFAULT_METRICS) -> list:
    """Full names of ``suffixes`` (default: the pool's gain fraction, the late reward vs TFT) that exist."""
    found = []
    for suffix in suffixes:
        try:
            found.append(resolve_metric(suffix, available))
        except ValueError:
            pass
    return found


def _fmt(entry: Optional[dict]) -> str:
    if not entry or entry.get("mean") is None or math.isnan(entry["mean"]):
        return "-"
    return f"{entry['mean']:.3f} ± {entry['std']:.3f}"


def format_sweep_table(sweep: dict, sort_metric: Optional[str], columns: Sequence[str]) -> str:
    """Markdown table of the points, best first by ``sort_metric`` (points without it last)."""
    names = list(sweep["grid"])
    columns = list(dict.fromkeys(([sort_metric] if sort_metric else []) + list(columns)))

    def rank(point):
        entry = point["metrics"].get(sort_metric) if sort_metric else None
        return -entry["mean"] if entry and not math.isnan(entry["mean"]) else math.inf

    points = sorted(sweep["points"], key=rank) if sort_metric else sweep["points"]
    lines = [f"sweep of {sweep['experiment']} | {sweep['algo']} | preset {sweep['preset']} | seeds "
             f"{len(sweep['seeds'])} | sorted by {sort_metric or '(grid order)'} (mean ± std over seeds)", "",
             "| " + " | ".join(names + columns + ["complete seeds"]) + " |",
             "|" + "---|" * (len(names) + len(columns) + 1)]
    for point in points:
        cells = [value_text(point["settings"][name]) for name in names]
        cells += [_fmt(point["metrics"].get(column)) for column in columns]
        cells.append(str(point["complete_seeds"]))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def collect_sweep(request: SweepRequest) -> dict:
    """The ``sweep.json`` content: request, metric names, and per point its settings and figures."""
    points, metric_names = [], {}
    for point in request.points:
        summary_path = request.out / point.name / "summary.json"
        summary = read_json(summary_path) if summary_path.is_file() else {"conditions": {}}
        metrics = summary_metrics(summary)
        metric_names.update(dict.fromkeys(metrics))
        complete = [condition.get("complete_seeds", []) for condition in summary["conditions"].values()]
        points.append({"name": point.name, "settings": point.settings,
                       "complete_seeds": len(set.intersection(*map(set, complete))) if complete else 0,
                       "metrics": metrics})
    return request.compared() | {"backend": request.backend, "metrics": list(metric_names), "points": points}


# ---------------------------------------------------------------------------- the sweep
def run_sweep(
    experiment: str,
    grid: Union[dict, Sequence[str]],
    algo: str = "a2c",
    preset: str = "cpu-quick",
    seeds: Union[int, Sequence[int]] = 3,
    out: Union[str, Path] = "sweeps",
    overrides: Optional[dict] = None,
    backend: str = "local",
    resume: bool = False,
    workers: int = 1,
    threads: int = 1,
    device: str = "cpu",
    sort: Optional[str] = None,
    heatmap: Optional[Sequence[str]] = None,
    progress: bool = True,
    plots: bool = True,
    address: Optional[str] = None,
    num_cpus: Optional[int] = None,
    gpus_per_point: float = 0.0,
    on_checked: Optional[Callable[[], None]] = None,
) -> dict:
    """Run ``experiment`` at every point of ``grid`` into ``out``, then write ``sweep.json``, ``sweep.md``, heatmaps.

    Args:
        grid: ``{name: [values]}``, or ``--grid`` strings (:func:`parse_grid`); names are the
            algorithm's hyperparameters.
        algo: ``"a2c"`` or ``"ppi"`` (any case).
        seeds: number of seeds (0..N-1) or the seeds themselves; every point runs all of them.
        overrides: fixed hyperparameters of every point (``--set``), not also in the grid.
        backend: ``"local"`` (``workers`` processes, ``threads`` torch threads per run) or
            ``"ray"`` (Ray Tune, one trial per point reserving ``threads`` CPUs and
            ``gpus_per_point`` GPUs; ``address``/``num_cpus`` as in :mod:`agents.harness.ray_backend`).
        resume: continue the sweep in ``out`` (which must exist); without it ``out`` must be new or empty.
        sort: metric ranking the table (default: the pool's ``gain_fraction`` if present,
            else the late reward vs TFT, of the last condition).
        heatmap: one or two metrics drawn over the first two grid axes (default as ``sort``'s
            default: both of them).
        on_checked: called once every check has passed, before the folder is locked and anything
            runs (the CLI prints its cost plan there).
        plots: draw each point's ``plots/`` and the heatmaps (needs matplotlib; skipped with a
            notice in ``sweep.json`` when it is missing).

    Returns:
        the content of ``sweep.json`` (module docstring; the schema is in ``docs/sweeps.md``).

    Raises:
        ValueError: bad names or values anywhere (before anything is written), a folder
            holding something else, a resumed folder of a different sweep.
    """
    algo = str(algo).lower()
    get_algorithm(algo)
    if backend not in BACKENDS:
        raise ValueError(f"unknown sweep backend {backend!r}; use one of {', '.join(BACKENDS)}")
    for name, value in (("workers", workers), ("threads", threads)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if address is not None and backend != "ray":
        raise ValueError("--address needs --backend ray")
    if backend == "ray" and str(device).startswith("cuda") and not gpus_per_point > 0:
        # Ray hides the GPUs from a trial that reserved none (CUDA_VISIBLE_DEVICES is emptied).
        raise ValueError(f"--device {device} on Ray needs GPUs reserved per trial: --gpus-per-point > 0 (e.g. 0.5)")
    if heatmap is not None and not 1 <= len(heatmap) <= 2:
        raise ValueError(f"--heatmap takes one or two metrics (A,B), got {len(heatmap)}: {', '.join(heatmap)}")
    sort = None if sort is None else current_metric_name(sort, "--sort")
    heatmap = None if heatmap is None else [current_metric_name(name, "--heatmap") for name in heatmap]
    grid = parse_grid(grid) if not isinstance(grid, dict) else grid
    points = grid_points(grid)
    conditions = [condition for condition, _ in experiment_units(experiment, 1)]
    for argument, names in (("--sort", [sort] if sort is not None else []), ("--heatmap", heatmap or [])):
        for name in names:
            check_metric_name(name, conditions, argument)
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        count = len(points) * len(conditions) * seeds
        check_fits(count * UNIT_RECORD_BYTES, f"{len(points)} points x {len(conditions)} conditions x {seeds} seeds "
                   f"= {count} runs", hint="give fewer seeds (--seeds) or grid values")
    request = SweepRequest(experiment, algo, preset, seed_list(seeds), grid, dict(overrides or {}), backend,
                           Path(out).resolve(), tuple(points))
    clashes = sorted(set(request.grid) & set(request.overrides))
    if clashes:
        raise ValueError(f"{', '.join(clashes)} given both as --grid and as --set; keep one")
    out = request.out
    if resume and not out.is_dir():  # a mistyped --out must not start a new sweep silently
        raise ValueError(f"nothing to resume: the sweep folder {out} does not exist; leave out --resume to start it")

    def check_folder(record: bool) -> None:
        if not record:
            check_unlocked(out)  # first: a live holder may be writing the files checked below
        if not resume and not is_empty(out):
            raise ValueError(f"{out} is not empty; pass --resume to continue the sweep there, or choose another --out")
        check_contents(out, "sweep", experiment, algo, record=record)
        if (out / REQUEST_FILE).is_file():
            started = read_json(out / REQUEST_FILE)
            differences = config_differences({key: started.get(key) for key in request.COMPARED},
                                             request.compared())
            if differences:
                raise ValueError(f"cannot resume the sweep in {out}: it was started with other settings:\n  "
                                 + "\n  ".join(differences))

    check_folder(record=False)  # refusals before the lock, so that a refused command changes nothing
    plans = {point.name: plan_point(request, point, device, resume) for point in points}
    check_units_fit([unit for plan in plans.values() for unit in plan.units.values()], device,
                    workers if backend == "local" else 1)
    if on_checked is not None:
        on_checked()
    with locked(out):
        check_folder(record=True)  # again: another process may have written the folder meanwhile
        record_provenance(out, device)
        write_json(out / REQUEST_FILE, request.record())
        unfinished = [plan for plan in plans.values() if not plan.is_finished()]  # finished points stay untouched
        with contextlib.ExitStack() as held:
            for plan in unfinished:
                held.enter_context(plan.opened())
            if backend == "local":
                _run_local(unfinished, workers, threads, progress, plots)
            else:
                _run_on_tune(request, plans, threads, resume, progress, plots, address, num_cpus, gpus_per_point)
        return write_sweep_report(request, sort, heatmap, plots)


def write_sweep_report(request: SweepRequest, sort: Optional[str], heatmap: Optional[Sequence[str]],
                       plots: bool) -> dict:
    """Write ``sweep.json``, ``sweep.md`` and the heatmap of a finished sweep; return the ``sweep.json`` content.

    ``sweep.json`` is written first, so a ``sort`` or ``heatmap`` name that matches no metric
    (an error naming the known ones) loses nothing: ``resume=True`` re-tabulates without training.
    """
    out = request.out
    sweep = collect_sweep(request)
    if (out / PROVENANCE_FILE).is_file():
        sweep["provenance"] = read_json(out / PROVENANCE_FILE)
    write_json(out / "sweep.json", sweep)
    defaults = default_metrics(sweep["metrics"])
    sort_metric = resolve_metric(sort, sweep["metrics"]) if sort else (defaults[0] if defaults else None)
    heat_metrics = [resolve_metric(name, sweep["metrics"]) for name in heatmap] if heatmap else defaults
    sweep["sort_metric"] = sort_metric
    table = format_sweep_table(sweep, sort_metric, heat_metrics + default_metrics(sweep["metrics"], TABLE_METRICS))
    (out / "sweep.md").write_text(table + "\n")
    sweep["table"] = str(out / "sweep.md")
    if plots and heat_metrics:
        from agents.harness.plots import plot_sweep_heatmaps

        labels = heatmap if heatmap else [
            metric.split("/", 1)[1].removeprefix("evaluation/") for metric in heat_metrics]
        path = out / ("sweep_" + "_".join(_UNSAFE.sub("-", label) for label in labels) + ".png")
        try:
            sweep["heatmap"] = str(plot_sweep_heatmaps(path, sweep, heat_metrics, value_text))
        except ImportError as error:  # matplotlib is the optional extra [plot]
            sweep["heatmap"] = f"not drawn: {error}"
    write_json(out / "sweep.json", sweep)
    return sweep
