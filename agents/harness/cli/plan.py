"""``ipd-coop plan``: what an experiment costs before it runs; also the plan ``reproduce`` and ``sweep`` print first.

The counting and timing are :mod:`agents.harness.plan`'s (:func:`~agents.harness.plan.make_plan`);
this module turns parsed arguments into its call.
"""
from __future__ import annotations

from agents.harness.cli.arguments import non_negative_float, parse_overrides, positive_int, torch_device


def add_parser(commands) -> None:
    plan = commands.add_parser("plan", help="what an experiment costs before it runs: runs, iterations, agent-steps "
                               "and the estimated wall time on this device",
                               description="Time a few units of the real trainer on this device and print the cost "
                                           "plan of a reproduce command with the same arguments; trains nothing.")
    add_plan_arguments(plan)
    plan.set_defaults(handler=command_plan)


def add_plan_arguments(parser) -> None:
    """The arguments of ``ipd-coop plan``: ``reproduce``'s (what would run, and how in parallel) and
    ``--timed-units``."""
    from agents.harness.algorithms import ALGORITHMS
    from agents.harness.costs import TIMED_UNITS
    from agents.harness.experiments import EXPERIMENTS, PRESET_NAMES

    parser.add_argument("experiment", choices=sorted(EXPERIMENTS), help="which experiment (as in reproduce)")
    parser.add_argument("--algo", default="a2c", type=str.lower, choices=sorted(ALGORITHMS),
                        help="learning algorithm (default a2c)")
    parser.add_argument("--preset", default="cpu-quick", help=f"budget: {', '.join(PRESET_NAMES)} (default cpu-quick)")
    parser.add_argument("--seeds", type=positive_int, default=3, help="number of seeds, 0..N-1 (default 3)")
    parser.add_argument("--conditions", help="comma-separated subset of the conditions (prerequisites are added)")
    parser.add_argument("--set", action="append", metavar="NAME=VALUE", help="override one hyperparameter "
                        "(repeatable), as in reproduce")
    parser.add_argument("--device", default="cpu", type=torch_device,
                        help="device to time on: cpu or cuda (default cpu)")
    parser.add_argument("--backend", default="local", choices=("local", "ray"), help="how the runs would be "
                        "scheduled (default local)")
    parser.add_argument("--workers", type=positive_int, default=1,
                        help="local backend: runs at the same time (default 1)")
    parser.add_argument("--threads", type=positive_int, help="torch threads per run (default: 1 with --workers > 1, "
                        "else torch's)")
    parser.add_argument("--num-cpus", type=positive_int, help="Ray backend: CPUs (default: all of this machine)")
    parser.add_argument("--gpus-per-unit", type=non_negative_float, default=0.0,
                        help="Ray backend: GPU share per run (default 0)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines while timing")
    parser.add_argument("--timed-units", type=positive_int, default=TIMED_UNITS,
                        help=f"training units timed after a warm-up per distinct condition (default {TIMED_UNITS})")


def plan_from_args(args):
    """The :class:`~agents.harness.plan.Plan` of what ``args`` would run: ``plan``'s, ``reproduce``'s or
    ``sweep``'s parsed arguments (a sweep's ``--grid`` makes one row per point and condition). Progress
    goes to stderr unless ``--quiet``."""
    from agents.harness.costs import TIMED_UNITS
    from agents.harness.plan import make_plan, parallel_slots

    points = None
    grid = getattr(args, "grid", None)
    if grid:
        from agents.harness.sweep import grid_points, parse_grid

        points = [(point.name, point.settings) for point in grid_points(parse_grid(grid))]
    threads = getattr(args, "threads", None)
    backend = getattr(args, "backend", "local")
    gpus = getattr(args, "gpus_per_unit", None) or getattr(args, "gpus_per_point", 0.0) or 0.0
    parallel = parallel_slots(backend, getattr(args, "workers", 1) or 1, threads, getattr(args, "num_cpus", None),
                              gpus, args.device)
    conditions = getattr(args, "conditions", None)
    return make_plan(args.experiment, algo=args.algo, preset=args.preset, seeds=args.seeds,
                     overrides=parse_overrides(getattr(args, "set", None)),
                     conditions=conditions.split(",") if conditions else None, device=args.device,
                     parallel=parallel, threads=threads, timed_units=getattr(args, "timed_units", TIMED_UNITS),
                     points=points, progress=not getattr(args, "quiet", False))


def print_plan_header(args) -> None:
    """Print the plan of a ``reproduce`` or ``sweep`` command before it starts (it refuses nothing)."""
    from agents.harness.plan import format_plan

    print(format_plan(plan_from_args(args)) + "\n", flush=True)


def command_plan(args) -> int:
    """``ipd-coop plan``: print the plan; runs nothing."""
    from agents.harness.plan import format_plan

    print(format_plan(plan_from_args(args)))
    return 0
