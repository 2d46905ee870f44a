"""PPI throughput: planner decisions/s and model training tokens/s, each beside a bare torch GRU.

    python benchmarks/ppi_throughput.py                 # default sizes (hidden 128, K = 8, horizon 15)
    python benchmarks/ppi_throughput.py --quick         # smoke test, < 20 s
    python benchmarks/ppi_throughput.py --device cuda

* **Planner**: one :meth:`PlanningPlayer.act` for ``N`` games in mid-episode (2 actions x K
  rollouts x ``horizon`` rounds in one batch), against a bare ``nn.GRU`` stepping the same
  ``horizon`` steps on the same ``[N * 2 * K, hidden]`` batch (forward only, no heads, no
  sampling): the ceiling of the rollout loop.
* **Training**: one AdamW step of the full three-head loss on ``[100 rounds, 256 episodes]``
  against a bare ``nn.GRU`` forward + backward on the same input shape. A third row runs the
  bare GRU over 300 steps: the cost of the paper's three-tokens-per-round layout.

Then it estimates the wall time of the ``paper`` preset (fig1 mixed: 2 learners, 200,000
pretraining episodes, 20,000 per phase, 30 phases, 10 epochs) from the measured rates.
Timings on a shared machine vary; the table prints what this run saw.
"""
from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from agents.algorithm import RunSettings
from agents.ppi.config import PPIConfig
from agents.ppi.model import ModelConfig, SequenceModel
from agents.ppi.planner import PlannerConfig, PlanningPlayer


def _timed(function, repeats: int, device) -> float:
    """Seconds per call (median of ``repeats`` after one warm-up)."""
    function()
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        function()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def planner_rates(model_config, planner_config, num_games, repeats, device):
    model = SequenceModel(model_config).to(device).eval()
    player = PlanningPlayer(model, planner_config, num_rounds=100)
    generator = torch.Generator(device=device).manual_seed(0)
    observation = torch.randint(1, 5, (num_games,), device=device, generator=generator)
    reward = torch.zeros(num_games, device=device)

    def decide():
        player.reset(num_games, generator)
        player.act(observation, reward)  # round 0: plans 15 rounds ahead of a 100-round episode

    planner_seconds = _timed(decide, repeats, device)
    rows = num_games * 2 * planner_config.num_rollouts
    gru = nn.GRU(3 * model_config.embedding_size, model_config.hidden_size).to(device)
    inputs = torch.randn(1, rows, 3 * model_config.embedding_size, device=device)

    @torch.no_grad()
    def bare():
        hidden = torch.zeros(1, rows, model_config.hidden_size, device=device)
        for _ in range(planner_config.horizon):
            _, hidden = gru(inputs, hidden)

    bare_seconds = _timed(bare, repeats, device)
    return num_games / planner_seconds, num_games / bare_seconds


def training_rates(model_config, batch_size, num_rounds, repeats, device):
    model = SequenceModel(model_config).to(device)
    config = PPIConfig()
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay,
                                  betas=tuple(config.adam_betas))
    generator = torch.Generator(device=device).manual_seed(0)
    outcomes = torch.randint(1, 5, (num_rounds, batch_size), device=device, generator=generator)
    action = torch.div(outcomes - 1, 2, rounding_mode="floor")
    batch = {"observation": torch.cat([torch.zeros_like(outcomes[:1]), outcomes[:-1]]), "next_observation": outcomes,
             "action": action,
             "reward": (outcomes == 1).float() - (outcomes == 2).float() + 2 * (outcomes == 3).float()}

    def step():
        loss, _ = model.loss(batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
        optimizer.step()

    tokens = num_rounds * batch_size
    model_rate = tokens / _timed(step, repeats, device)
    gru = nn.GRU(3 * model_config.embedding_size, model_config.hidden_size).to(device)
    rates = []
    for steps in (num_rounds, 3 * num_rounds):
        inputs = torch.randn(steps, batch_size, 3 * model_config.embedding_size, device=device)

        def bare():
            output, _ = gru(inputs)
            output.sum().backward()

        rates.append(tokens / _timed(bare, repeats, device))  # tokens = rounds, whatever the layout
    return model_rate, rates[0], rates[1]


def paper_estimate(config: PPIConfig, decisions_per_second: float, tokens_per_second: float, num_learners: int = 2,
                   num_rounds: int = RunSettings().num_rounds):
    """Seconds of one fig1-mixed run at the paper's scale from the two rates."""
    trained_episodes = sum(config.pretraining_episodes + phase * config.episodes_per_phase
                           for phase in range(config.num_phases))
    tokens = num_learners * config.epochs * num_rounds * trained_episodes
    decisions = num_learners * config.num_phases * config.episodes_per_phase * num_rounds
    return tokens / tokens_per_second, decisions / decisions_per_second, tokens, decisions


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes and few repeats (smoke test, < 20 s)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--games", type=int, default=None, help="games per planner call (default 1024; quick 64)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    paper = PPIConfig()
    if args.quick:
        model_config, planner_config = ModelConfig(32, 8), PlannerConfig(num_rollouts=2, horizon=5)
        games, repeats, batch_size = args.games or 64, 2, 32
    else:
        model_config = ModelConfig(paper.hidden_size, paper.embedding_size)
        planner_config = paper.planner()
        games, repeats, batch_size = args.games or 1024, 3, paper.batch_size
    torch.manual_seed(0)
    print(f"device {device}, torch threads {torch.get_num_threads()}, hidden {model_config.hidden_size}, "
          f"embeddings {model_config.embedding_size}, K {planner_config.num_rollouts}, "
          f"horizon {planner_config.horizon}")
    decisions, bare_decisions = planner_rates(model_config, planner_config, games, repeats, device)
    tokens, bare_tokens, bare_three = training_rates(model_config, batch_size, 100, repeats, device)
    print(f"| {'measure':<44} | {'PPI':>12} | {'bare GRU':>12} | {'PPI / bare':>10} |")
    print(f"|{'-' * 46}|{'-' * 14}|{'-' * 14}|{'-' * 12}|")
    print(f"| {f'planner decisions/s ({games} games, one batch)':<44} | {decisions:>12,.0f} | "
          f"{bare_decisions:>12,.0f} | {decisions / bare_decisions:>9.0%} |")
    print(f"| {f'training tokens/s (batch {batch_size} x 100 rounds)':<44} | {tokens:>12,.0f} | "
          f"{bare_tokens:>12,.0f} | {tokens / bare_tokens:>9.0%} |")
    print(f"| {'bare GRU, 3 tokens per round (rounds/s)':<44} | {'':>12} | {bare_three:>12,.0f} | "
          f"{'':>10} |")
    train_seconds, plan_seconds, total_tokens, total_decisions = paper_estimate(paper, decisions, tokens)
    print(f"\npaper preset, fig1 mixed (2 learners, {paper.num_phases} phases): {total_tokens:.3g} training tokens, "
          f"{total_decisions:.3g} planner decisions")
    print(f"estimated wall time at these rates: training {train_seconds / 3600:.1f} h + planning "
          f"{plan_seconds / 3600:.1f} h = {(train_seconds + plan_seconds) / 3600:.1f} h on {device}"
          + (" (measured at --quick sizes: not the paper's model)" if args.quick else ""))


if __name__ == "__main__":
    main()
