"""``ipd-coop reproduce``: train every condition x seed of an experiment, locally or on Ray, then summarise it."""
from __future__ import annotations

import functools

from agents.harness.cli.arguments import (
    check_output,
    non_negative_float,
    parse_overrides,
    positive_int,
    split_names,
    torch_device,
)


def add_parser(commands) -> None:
    from agents.harness.algorithms import ALGORITHMS
    from agents.harness.experiments import EXPERIMENTS, PRESET_NAMES

    reproduce = commands.add_parser("reproduce",
                                    help="train an experiment (conditions x seeds), then summary and plots",
                                    description="Train every condition x seed of an experiment into --out, then "
                                                "write summary.json, summary.md and plots/.")
    reproduce.add_argument("experiment", choices=sorted(EXPERIMENTS), help="which figure: fig1 (mixed pool and "
                           "ablations) or step1/step2/step3 (the mechanism; later steps run earlier ones first)")
    reproduce.add_argument("--algo", default="a2c", choices=sorted(ALGORITHMS), help="learning algorithm (default a2c)")
    reproduce.add_argument("--preset", default="cpu-quick", help=f"budget: {', '.join(PRESET_NAMES)} "
                           "(default cpu-quick: minutes on a laptop; test: seconds, tiny models, to check a set-up; "
                           "paper: the paper's scale, for a GPU); a2c also has cpu-mechanism: the CPU regime where the "
                           "paper's mechanism appears, with named departures from the paper (docs/mechanism.md)")
    reproduce.add_argument("--seeds", type=positive_int, default=3,
                           help="number of seeds, run as seeds 0..N-1 (default 3)")
    reproduce.add_argument("--conditions", help="comma-separated subset of the experiment's conditions "
                           "(prerequisites are added); default: all")
    reproduce.add_argument("--device", default="cpu", type=torch_device,
                           help="torch device for training: cpu or cuda (default cpu)")
    reproduce.add_argument("--backend", default="local", choices=("local", "ray"),
                           help="local: one unit after another in this process; ray: units as Ray tasks")
    reproduce.add_argument("--address", help="Ray cluster address (ray://HEAD:10001 or HEAD:6379); default: "
                           "start a local Ray. Needs --backend ray")
    reproduce.add_argument("--set", action="append", metavar="NAME=VALUE", help="override one hyperparameter of "
                           "the preset (repeatable), e.g. --set num_iterations=50; unknown names are refused")
    reproduce.add_argument("--workers", type=positive_int, default=1,
                           help="local backend: units run in this many parallel processes (default 1)")
    reproduce.add_argument("--threads", type=positive_int, help="torch threads per unit "
                           "(local default: 1 with --workers > 1; Ray: CPUs reserved per task, default 1)")
    reproduce.add_argument("--num-cpus", type=positive_int, help="CPUs of the local Ray (default: all of this machine)")
    reproduce.add_argument("--gpus-per-unit", type=non_negative_float, default=0.0,
                           help="Ray backend: GPUs reserved per (condition, seed) task, fractions allowed "
                           "(e.g. 0.25 with --device cuda); default 0")
    reproduce.add_argument("--out", help="output folder (default runs/<experiment>-<algo>-<preset>)")
    reproduce.add_argument("--resume", action="store_true", help="continue the runs in --out from their last "
                           "checkpoints (finished units are kept; a different config is refused)")
    reproduce.add_argument("--quiet", action="store_true", help="no progress bars")
    reproduce.add_argument("--batch-seeds", action="store_true",
                           help="A2C: train each condition's seeds as one batched computation (each seed's numbers "
                                "as if run alone; for a GPU: on a CPU it is 0.75-0.97x the speed of separate runs)")
    reproduce.add_argument("--no-plan", action="store_true",
                           help="skip the cost plan printed first (it times a few training units: seconds at "
                                "cpu-quick, a minute or two at the paper preset)")
    reproduce.set_defaults(handler=command_reproduce)


def command_reproduce(args) -> int:
    from agents.harness.cli.plan import print_plan_header
    from agents.harness.runner import run_experiment
    from agents.harness.summary import format_summary

    conditions = split_names(args.conditions, "--conditions") if args.conditions is not None else None
    out = check_output(args.out if args.out is not None else f"runs/{args.experiment}-{args.algo}-{args.preset}",
                       "--out", folder=True)
    common = dict(experiment=args.experiment, algo=args.algo, preset=args.preset, seeds=args.seeds, out=out,
                  device=args.device, resume=args.resume, conditions=conditions,
                  overrides=parse_overrides(args.set))
    # The plan is printed once every check has passed: a refused command prints only its error.
    plan = None if args.no_plan else functools.partial(print_plan_header, args)
    if args.backend == "ray":
        if args.batch_seeds:
            raise ValueError("--batch-seeds needs the local backend (Ray runs each seed as its own task)")
        summary = _reproduce_on_ray(args, common, plan)
    else:
        if args.address:
            raise ValueError("--address needs --backend ray")
        summary = run_experiment(progress=not args.quiet, workers=args.workers, threads_per_worker=args.threads,
                                 on_checked=plan, batch_seeds=args.batch_seeds, **common)
    # The runner's aggregate step wrote summary.md (with the paper's value beside each number).
    table = format_summary(summary)
    (out / "summary.md").write_text(table + "\n")
    print(table)
    print(f"\nsummary: {out / 'summary.json'} (table: {out / 'summary.md'})")
    plots = summary.get("plots")
    print(f"plots:   {out / 'plots'}" if isinstance(plots, list) else f"plots:   {plots}")
    return 0


def _reproduce_on_ray(args, common: dict, on_checked=None) -> dict:
    """``reproduce --backend ray``: the same checked plan as the local backend, its units as Ray tasks."""
    from agents.harness.ray_backend import run_experiment_on_ray

    return run_experiment_on_ray(address=args.address, num_cpus=args.num_cpus, gpus_per_unit=args.gpus_per_unit,
                                 cpus_per_unit=args.threads or 1, on_checked=on_checked, **common)
