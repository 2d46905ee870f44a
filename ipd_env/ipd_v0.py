"""Version 0 of the IPD environment, PettingZoo's versioned-module convention.

``env`` (AEC, order-enforced), ``raw_env`` (AEC, unwrapped) and ``parallel_env`` (the
native parallel env); the documentation is in :mod:`ipd_env.ipd`. A later incompatible
change of the game gets a new module (``ipd_v1``) so that results stay reproducible.
"""
from ipd_env.ipd import IPDParallelEnv, env, parallel_env, raw_env

__all__ = ["IPDParallelEnv", "env", "parallel_env", "raw_env"]
