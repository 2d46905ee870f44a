"""PPO in one file, CleanRL style, on the Gymnasium env ``ipd_env/IPDvsCoPlayer-v0``.

Everything is on this page: the arguments (one docstring each, shown by ``--help``), the
actor-critic, the rollout, GAE, the clipped surrogate, the value loss and the entropy
bonus, written straight down as in CleanRL's ``ppo.py``. Nothing here is ours but the env:
it plugs into your own training code like any Gymnasium env::

    python examples/cleanrl_ppo.py                          # vs the tabular pool, ~15 s on one CPU core
    python examples/cleanrl_ppo.py --co-player tft --total-timesteps 100000

``gymnasium.make_vec`` builds the env's native vector version (``IPDvsCoPlayerVectorEnv``,
memory-1 co-players: the pool, the zoo but grim, probability vectors);
``--vectorization-mode sync`` steps ``--num-envs`` single envs instead (any co-player).
All episodes start and end together, so one rollout is one whole episode of every env:
the loop calls ``reset`` itself and never meets Gymnasium's autoreset step. The policy
is an MLP on the one-hot last outcome (START, CC, CD, DC, DD), so it learns a memory-1
policy; the in-context learners of the paper are in ``agents/`` (``ipd-coop reproduce``).
At the end the policy plays Tit for Tat, Always Defect and Always Cooperate in the same
env, and the table is printed.
"""
import argparse
import ast
import dataclasses
import inspect
import random
import sys
import time
from dataclasses import dataclass

import gymnasium
import numpy as np
import torch
from torch import nn
from torch.distributions import Categorical

import ipd_env  # noqa: F401  (registers ipd_env/IPDvsCoPlayer-v0)
from ipd_env.game import COOPERATE

ENV_ID = "ipd_env/IPDvsCoPlayer-v0"


@dataclass
class Args:
    seed: int = 1
    """seed of python, numpy, torch and the envs"""
    co_player: str = "pool"
    """co-player in training: pool (a fresh uniform memory-1 agent every episode) or a zoo name (tft, allc, ...)"""
    vectorization_mode: str = "vector_entry_point"
    """vector_entry_point (the env's native vector env, memory-1 co-players) or sync (any co-player)"""
    total_timesteps: int = 32_000
    """learner steps (rounds) of training, all envs together"""
    num_envs: int = 16
    """envs stepped together; a rollout is one episode of each, num_envs * max_cycles steps"""
    max_cycles: int = 100
    """rounds per episode"""
    learning_rate: float = 3e-3
    """Adam's learning rate"""
    anneal_lr: bool = True
    """anneal the learning rate linearly to 0"""
    gamma: float = 0.99
    """discount factor"""
    gae_lambda: float = 0.95
    """lambda of the generalized advantage estimate"""
    num_minibatches: int = 4
    """minibatches per epoch"""
    update_epochs: int = 4
    """epochs over each rollout"""
    norm_adv: bool = True
    """normalize the advantages of each minibatch"""
    clip_coef: float = 0.2
    """clipping coefficient of the surrogate (and of the value loss)"""
    clip_vloss: bool = True
    """clip the value loss as in the PPO paper's code"""
    ent_coef: float = 0.01
    """entropy bonus coefficient"""
    vf_coef: float = 0.5
    """value loss coefficient"""
    max_grad_norm: float = 0.5
    """gradient clipping norm"""
    hidden: int = 64
    """units of each of the two hidden layers of actor and critic"""
    eval_games: int = 256
    """games against each of TFT, AllD and AllC at the end"""
    threads: int = 1
    """torch CPU threads (default 1: a small MLP gains nothing from more, as in the other examples)"""


def field_docstrings(cls) -> dict:
    """The string under each field of a dataclass (what tyro shows as help), read from the source."""
    body = ast.parse(inspect.getsource(cls)).body[0].body
    return {node.target.id: after.value.value for node, after in zip(body, body[1:])
            if isinstance(node, ast.AnnAssign) and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)}


def parse_args(argv=None) -> Args:
    """One ``--flag`` per field of :class:`Args` (``--total-timesteps``; ``--no-anneal-lr`` for booleans)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    helps = field_docstrings(Args)
    for field in dataclasses.fields(Args):
        flag = "--" + field.name.replace("_", "-")
        if field.type is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=field.default,
                                help=helps[field.name])
        else:
            parser.add_argument(flag, type=field.type, default=field.default, help=helps[field.name])
    args = Args(**vars(parser.parse_args(argv)))
    for name in ("total_timesteps", "num_envs", "max_cycles", "num_minibatches", "update_epochs", "eval_games",
                 "threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be a positive integer, got {getattr(args, name)}")
    if args.total_timesteps < args.num_envs * args.max_cycles:
        parser.error(f"--total-timesteps {args.total_timesteps} is less than one rollout "
                     f"(--num-envs * --max-cycles = {args.num_envs * args.max_cycles})")
    if args.num_minibatches > args.num_envs * args.max_cycles:
        parser.error(f"--num-minibatches {args.num_minibatches} exceeds the rollout's "
                     f"{args.num_envs * args.max_cycles} steps")
    return args


def make_envs(args: Args, co_player: str, num_envs: int) -> gymnasium.vector.VectorEnv:
    return gymnasium.make_vec(ENV_ID, num_envs=num_envs, vectorization_mode=args.vectorization_mode,
                              co_player=co_player, max_cycles=args.max_cycles)


def layer_init(layer, std=np.sqrt(2), bias_const=0.0):
    torch.nn.init.orthogonal_(layer.weight, std)
    torch.nn.init.constant_(layer.bias, bias_const)
    return layer


class Agent(nn.Module):
    def __init__(self, observation_size: int, hidden: int):
        super().__init__()
        self.critic = nn.Sequential(
            layer_init(nn.Linear(observation_size, hidden)), nn.Tanh(),
            layer_init(nn.Linear(hidden, hidden)), nn.Tanh(),
            layer_init(nn.Linear(hidden, 1), std=1.0),
        )
        self.actor = nn.Sequential(
            layer_init(nn.Linear(observation_size, hidden)), nn.Tanh(),
            layer_init(nn.Linear(hidden, hidden)), nn.Tanh(),
            layer_init(nn.Linear(hidden, 2), std=0.01),  # logits of C (0) and D (1)
        )

    def get_value(self, x):
        return self.critic(x)

    def get_action_and_value(self, x, action=None):
        probs = Categorical(logits=self.actor(x))
        if action is None:
            action = probs.sample()
        return action, probs.log_prob(action), probs.entropy(), self.critic(x)


def evaluate(agent: Agent, args: Args, co_player: str) -> dict:
    """One episode of ``eval_games`` envs against ``co_player``: reward per round and cooperation of the agent."""
    envs = make_envs(args, co_player, args.eval_games)
    obs, _ = envs.reset(seed=args.seed + 10_000)
    total_reward, cooperated = 0.0, 0.0
    for _ in range(args.max_cycles):
        with torch.no_grad():
            action, _, _, _ = agent.get_action_and_value(torch.as_tensor(obs, dtype=torch.float32))
        obs, reward, _, _, _ = envs.step(action.numpy())
        total_reward += float(np.mean(reward))
        cooperated += float((action == COOPERATE).float().mean())
    envs.close()
    return {"co_player": co_player, "reward": total_reward / args.max_cycles,
            "cooperation": cooperated / args.max_cycles}


def main(argv=None):
    args = parse_args(argv)
    num_steps = args.max_cycles  # one whole episode per env and rollout
    batch_size = args.num_envs * num_steps
    minibatch_size = batch_size // args.num_minibatches
    num_iterations = args.total_timesteps // batch_size

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)

    try:
        envs = make_envs(args, args.co_player, args.num_envs)
    except ValueError as error:  # an unknown co-player, or grim without --vectorization-mode sync: one line
        print(f"cleanrl_ppo.py: error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    observation_size = envs.single_observation_space.shape[0]
    agent = Agent(observation_size, args.hidden)
    optimizer = torch.optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5)

    obs = torch.zeros((num_steps, args.num_envs, observation_size))
    actions = torch.zeros((num_steps, args.num_envs), dtype=torch.long)
    logprobs = torch.zeros((num_steps, args.num_envs))
    rewards = torch.zeros((num_steps, args.num_envs))
    values = torch.zeros((num_steps, args.num_envs))

    history = []
    global_step = 0
    start_time = time.time()
    print(f"PPO vs {args.co_player}: {num_iterations} iterations of {batch_size} steps, seed {args.seed}")
    for iteration in range(1, num_iterations + 1):
        if args.anneal_lr:
            optimizer.param_groups[0]["lr"] = (1.0 - (iteration - 1.0) / num_iterations) * args.learning_rate

        # Rollout: one episode of every env (they all end after max_cycles rounds).
        next_obs, _ = envs.reset(seed=args.seed if iteration == 1 else None)
        next_obs = torch.as_tensor(next_obs, dtype=torch.float32)
        for step in range(num_steps):
            global_step += args.num_envs
            obs[step] = next_obs
            with torch.no_grad():
                action, logprob, _, value = agent.get_action_and_value(next_obs)
            actions[step], logprobs[step], values[step] = action, logprob, value.flatten()
            next_obs, reward, terminations, truncations, _ = envs.step(action.numpy())
            rewards[step] = torch.as_tensor(reward, dtype=torch.float32)
            next_obs = torch.as_tensor(next_obs, dtype=torch.float32)
        assert np.all(terminations | truncations), "every episode ends after max_cycles rounds"

        episodic_return = float(rewards.sum(0).mean())
        cooperation = float((actions == COOPERATE).float().mean())
        history.append({"global_step": global_step, "episodic_return": episodic_return, "cooperation": cooperation})
        print(f"global_step={global_step} episodic_return={episodic_return:.2f} cooperation={cooperation:.2f} "
              f"SPS={int(global_step / (time.time() - start_time))}")

        # GAE. The game ends after the last round: nothing to bootstrap from.
        with torch.no_grad():
            advantages = torch.zeros_like(rewards)
            lastgaelam = 0.0
            for t in reversed(range(num_steps)):
                if t == num_steps - 1:
                    nextnonterminal, nextvalues = 0.0, torch.zeros(args.num_envs)
                else:
                    nextnonterminal, nextvalues = 1.0, values[t + 1]
                delta = rewards[t] + args.gamma * nextvalues * nextnonterminal - values[t]
                advantages[t] = lastgaelam = delta + args.gamma * args.gae_lambda * nextnonterminal * lastgaelam
            returns = advantages + values

        b_obs = obs.reshape((-1, observation_size))
        b_logprobs, b_actions = logprobs.reshape(-1), actions.reshape(-1)
        b_advantages, b_returns, b_values = advantages.reshape(-1), returns.reshape(-1), values.reshape(-1)

        # Optimize the policy and value network.
        b_inds = np.arange(batch_size)
        for _ in range(args.update_epochs):
            np.random.shuffle(b_inds)
            for start in range(0, batch_size, minibatch_size):
                mb_inds = b_inds[start:start + minibatch_size]
                _, newlogprob, entropy, newvalue = agent.get_action_and_value(b_obs[mb_inds], b_actions[mb_inds])
                logratio = newlogprob - b_logprobs[mb_inds]
                ratio = logratio.exp()

                mb_advantages = b_advantages[mb_inds]
                if args.norm_adv and len(mb_inds) > 1:
                    mb_advantages = (mb_advantages - mb_advantages.mean()) / (mb_advantages.std() + 1e-8)

                # Clipped surrogate objective.
                pg_loss1 = -mb_advantages * ratio
                pg_loss2 = -mb_advantages * torch.clamp(ratio, 1 - args.clip_coef, 1 + args.clip_coef)
                pg_loss = torch.max(pg_loss1, pg_loss2).mean()

                # Value loss.
                newvalue = newvalue.view(-1)
                if args.clip_vloss:
                    v_loss_unclipped = (newvalue - b_returns[mb_inds]) ** 2
                    v_clipped = b_values[mb_inds] + torch.clamp(newvalue - b_values[mb_inds],
                                                                -args.clip_coef, args.clip_coef)
                    v_loss_clipped = (v_clipped - b_returns[mb_inds]) ** 2
                    v_loss = 0.5 * torch.max(v_loss_unclipped, v_loss_clipped).mean()
                else:
                    v_loss = 0.5 * ((newvalue - b_returns[mb_inds]) ** 2).mean()

                entropy_loss = entropy.mean()
                loss = pg_loss - args.ent_coef * entropy_loss + v_loss * args.vf_coef

                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm)
                optimizer.step()
    envs.close()

    # Evaluation: the trained policy (sampling) against three zoo members.
    rows = [evaluate(agent, args, name) for name in ("tft", "alld", "allc")]
    print(f"\nevaluation: {args.eval_games} games of {args.max_cycles} rounds per co-player")
    print("| co-player | reward / round | cooperation |\n|---|---|---|")
    for row in rows:
        print(f"| {row['co_player']} | {row['reward']:.3f} | {row['cooperation']:.3f} |")
    return {"history": history, "evaluation": rows, "agent": agent}


if __name__ == "__main__":
    main()
