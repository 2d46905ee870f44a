"""ipd-env: the Iterated Prisoner's Dilemma for multi-agent RL (PettingZoo, Gymnasium, batched torch).

Public names::

    ipd_env.parallel_env(...)          # PettingZoo ParallelEnv (ipd_env.ipd.IPDParallelEnv)
    ipd_env.env(...)                   # PettingZoo AEC env
    from ipd_env import ipd_v0         # versioned module: env, parallel_env, raw_env
    ipd_env.IPDVectorEnv(num_games)    # batched torch env (imported on first use)
    ipd_env.IPDvsCoPlayerEnv(...)      # Gymnasium env against a co-player (imported on first use)
    ipd_env.IPDvsCoPlayerVectorEnv(N)  # its native vector version (gymnasium.make_vec)
    ipd_env.MemoryOnePlayer(p)         # memory-1 co-player, p: [5] or [num_games, 5] (ipd_env.memory_one)
    ipd_env.UniformMemoryOnePool()     # the paper's pool: fresh U(0, 1)^5 policies at every reset

Importing the package registers ``ipd_env/IPD-v0`` with PettingZoo (``pettingzoo.make``,
parallel and AEC, where the installed PettingZoo has a registry) and
``ipd_env/IPDvsCoPlayer-v0`` with Gymnasium (``gymnasium.make``; ``gymnasium.make_vec``
builds the native vector env). Registration is
idempotent, and torch is only imported when the batched or Gymnasium env is used.
"""
__version__ = "0.1.0"

from ipd_env import ipd_v0
from ipd_env.ipd import IPDParallelEnv, env, parallel_env, raw_env

PETTINGZOO_ID = "ipd_env/IPD-v0"
GYMNASIUM_ID = "ipd_env/IPDvsCoPlayer-v0"

# Names imported on first access (PEP 562) because they pull in torch.
_LAZY_NAMES = {
    "IPDVectorEnv": "ipd_env.vector",
    "IPDvsCoPlayerEnv": "ipd_env.single_agent",
    "IPDvsCoPlayerVectorEnv": "ipd_env.single_agent_vector",
    "MemoryOnePlayer": "ipd_env.memory_one",
    "UniformMemoryOnePool": "ipd_env.memory_one",
    "Player": "ipd_env.player",
    "play_episodes": "ipd_env.player",
}


def __getattr__(name):
    if name in _LAZY_NAMES:
        import importlib

        return getattr(importlib.import_module(_LAZY_NAMES[name]), name)
    raise AttributeError(f"module 'ipd_env' has no attribute {name!r}")


def _register_pettingzoo() -> bool:
    """Register ``ipd_env/IPD-v0`` (parallel and AEC); False where PettingZoo has no registry."""
    try:
        from pettingzoo import aec_registry, parallel_registry, register
    except ImportError:  # PettingZoo < 1.27: use ipd_env.parallel_env / ipd_env.env directly
        return False
    if PETTINGZOO_ID not in parallel_registry:
        register("parallel", PETTINGZOO_ID, entry_point="ipd_env.ipd_v0:parallel_env")
    if PETTINGZOO_ID not in aec_registry:
        register("aec", PETTINGZOO_ID, entry_point="ipd_env.ipd_v0:env")
    return True


def _register_gymnasium() -> None:
    """Register ``ipd_env/IPDvsCoPlayer-v0`` with Gymnasium (once)."""
    import gymnasium

    if GYMNASIUM_ID not in gymnasium.registry:
        # No max_episode_steps: the env truncates itself after max_cycles rounds.
        gymnasium.register(
            id=GYMNASIUM_ID,
            entry_point="ipd_env.single_agent:IPDvsCoPlayerEnv",
            vector_entry_point="ipd_env.single_agent_vector:IPDvsCoPlayerVectorEnv",
        )


_register_pettingzoo()
_register_gymnasium()

__all__ = [
    "GYMNASIUM_ID",
    "IPDParallelEnv",
    "IPDVectorEnv",
    "IPDvsCoPlayerEnv",
    "IPDvsCoPlayerVectorEnv",
    "MemoryOnePlayer",
    "PETTINGZOO_ID",
    "Player",
    "env",
    "ipd_v0",
    "parallel_env",
    "play_episodes",
    "raw_env",
    "UniformMemoryOnePool",
]
