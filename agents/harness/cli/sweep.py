"""``ipd-coop sweep``: the experiment that reproduce runs, once per point of a hyperparameter grid (docs/sweeps.md)."""
from __future__ import annotations

import functools
from pathlib import Path

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

    sweep = commands.add_parser("sweep", help="an experiment at every point of a hyperparameter grid: table, heatmaps",
                                description="Run the experiment that reproduce runs once per grid point (one "
                                            "experiment folder per point under --out), then write sweep.json, "
                                            "sweep.md and heatmaps (docs/sweeps.md).")
    sweep.add_argument("experiment", choices=sorted(EXPERIMENTS), help="which experiment every point runs "
                       "(as in reproduce)")
    sweep.add_argument("--grid", action="append", required=True, metavar="NAME=V1,V2,...",
                       help="a hyperparameter and its values (repeatable: the points are all combinations); values "
                            "are read like --set (JSON when they parse); separate them by ';' when they hold commas, "
                            "e.g. --grid 'pool=uniform;beta:0.5,0.5'")
    sweep.add_argument("--algo", default="a2c", type=str.lower, choices=sorted(ALGORITHMS),
                       help="learning algorithm, any case (default a2c)")
    sweep.add_argument("--preset", default="cpu-quick", help=f"budget of every point: {', '.join(PRESET_NAMES)} "
                       "(default cpu-quick; a2c also cpu-mechanism)")
    sweep.add_argument("--seeds", type=positive_int, default=3, help="seeds per point, run as 0..N-1 (default 3)")
    sweep.add_argument("--set", action="append", metavar="NAME=VALUE", help="a hyperparameter fixed for every "
                       "point (repeatable; not also in --grid)")
    sweep.add_argument("--out", help="sweep folder (default sweeps/<experiment>-<algo>-<preset>)")
    sweep.add_argument("--backend", default="local", choices=("local", "ray"),
                       help="local: a process pool over the units of all points; ray: one Ray Tune trial per point")
    sweep.add_argument("--resume", action="store_true", help="continue the sweep in --out: finished points are "
                       "kept, unfinished units continue from their last checkpoint "
                       "(also re-tabulates a finished sweep)")
    sweep.add_argument("--workers", type=positive_int, default=1, help="local backend: parallel processes (default 1)")
    sweep.add_argument("--threads", type=positive_int, default=1,
                       help="torch threads per run; Ray: CPUs per trial (default 1)")
    sweep.add_argument("--sort", metavar="METRIC", help="rank sweep.md by this metric, a full name from sweep.json "
                       "or its end (e.g. tft/late_reward); default: pool/gain_fraction if present, else "
                       "tft/late_reward, of the last condition")
    sweep.add_argument("--heatmap", metavar="METRIC_A,METRIC_B", help="the two metrics drawn over the first two "
                       "grid axes (default: the two of --sort's default)")
    sweep.add_argument("--device", default="cpu", type=torch_device, help="torch device for training (default cpu)")
    sweep.add_argument("--address", help="Ray cluster address (needs --backend ray); default: a local Ray")
    sweep.add_argument("--num-cpus", type=positive_int, help="CPUs of the local Ray (default: all of this machine)")
    sweep.add_argument("--gpus-per-point", type=non_negative_float, default=0.0, help="Ray backend: GPUs each "
                       "point's trial reserves, fractions allowed (e.g. 0.5 with --device cuda); default 0")
    sweep.add_argument("--no-plot", action="store_true", help="no per-point plots and no heatmaps")
    sweep.add_argument("--quiet", action="store_true", help="no progress bars")
    sweep.add_argument("--no-plan", action="store_true",
                       help="skip the cost plan printed first (it times a few training units: seconds at "
                            "cpu-quick, a minute or two at the paper preset)")
    sweep.set_defaults(handler=command_sweep)


def command_sweep(args) -> int:
    from agents.harness.cli.plan import print_plan_header
    from agents.harness.sweep import run_sweep

    out = check_output(args.out if args.out is not None else f"sweeps/{args.experiment}-{args.algo}-{args.preset}",
                       "--out", folder=True)
    heatmap = split_names(args.heatmap, "--heatmap") if args.heatmap is not None else None
    if args.sort is not None and not args.sort.strip():
        raise ValueError("--sort is empty; give a metric name such as tft/late_reward")
    plan = None if args.no_plan else functools.partial(print_plan_header, args)  # once every check has passed
    sweep = run_sweep(args.experiment, args.grid, algo=args.algo, preset=args.preset, seeds=args.seeds, out=out,
                      overrides=parse_overrides(args.set), backend=args.backend, resume=args.resume,
                      workers=args.workers, threads=args.threads, device=args.device, sort=args.sort,
                      heatmap=heatmap, progress=not args.quiet,
                      plots=not args.no_plot, address=args.address, num_cpus=args.num_cpus,
                      gpus_per_point=args.gpus_per_point, on_checked=plan)
    print(Path(sweep["table"]).read_text(), end="")
    print(f"\nsweep:   {out / 'sweep.json'} (table: {out / 'sweep.md'})")
    if "heatmap" in sweep:
        drawn = not sweep["heatmap"].startswith("not drawn")
        print(f"heatmap: {out / Path(sweep['heatmap']).name if drawn else sweep['heatmap']}")
    return 0
