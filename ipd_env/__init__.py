"""ipd-env: the Iterated Prisoner's Dilemma for multi-agent RL (PettingZoo, Gymnasium, batched torch)."""
__version__ = "0.1.0"
