"""A small PPI model trained once per test session on tabular-vs-tabular games (the pretraining data D_0)."""
import pytest
import torch

from agents.ppi.collect import pretraining_episodes
from agents.ppi.config import PPIConfig
from agents.ppi.dataset import EpisodeBatcher
from agents.ppi.model import ModelConfig, SequenceModel
from agents.ppi.trainer import fit_model

TRAIN_EPISODES = 1500
HELD_OUT_EPISODES = 400


@pytest.fixture(scope="session")
def tabular_data():
    generator = torch.Generator().manual_seed(0)
    episodes = pretraining_episodes(TRAIN_EPISODES + HELD_OUT_EPISODES, "tabular", 100, generator)
    train = {name: value[:TRAIN_EPISODES].numpy() for name, value in episodes.items()}
    held_out = {name: value[TRAIN_EPISODES:].numpy() for name, value in episodes.items()}
    return train, held_out


@pytest.fixture(scope="session")
def trained_model(tabular_data):
    """hidden 64 / embeddings 16, batch 32, lr 5e-3 (the CPU presets), 5 epochs: about 10 s on one core."""
    train, _ = tabular_data
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = SequenceModel(ModelConfig(hidden_size=64, embedding_size=16))
    config = PPIConfig(epochs=5, batch_size=32, learning_rate=5e-3)
    losses = fit_model(model, EpisodeBatcher(train), config, torch.Generator().manual_seed(1))
    return model, losses
