"""weights.safetensors and weights.json beside final.pt: loadable by standard tools, checksum checked."""
from __future__ import annotations

import json

import pytest
import torch

safetensors_torch = pytest.importorskip("safetensors.torch")

from agents.harness.checkpoint import load_checkpoint  # noqa: E402  (after the importorskip)
from agents.harness.runner import run_unit, train_seed_batch, unit_dir  # noqa: E402
from agents.harness.weights import LOAD_SNIPPET, WEIGHTS_FILE, WEIGHTS_INFO_FILE, load_weights  # noqa: E402


@pytest.fixture(scope="module")
def a2c_run(tmp_path_factory):
    """The checkpoints folder of a finished Fig. 1 "mixed" A2C unit (test preset, 2 iterations, 2 learners)."""
    out = tmp_path_factory.mktemp("weights")
    run_unit("a2c", "fig1", "mixed", 0, "test", out, progress=False, overrides={"num_iterations": 2})
    return unit_dir(out, "mixed", 0) / "checkpoints"


def final_models(checkpoints) -> list:
    return load_checkpoint(checkpoints / "final.pt")["trainer"]["models"]


def assert_same_models(weights: dict, models: list) -> None:
    assert list(weights) == [f"learner_{index}" for index in range(len(models))]
    for index, model in enumerate(models):
        state = weights[f"learner_{index}"]
        assert set(state) == set(model)
        for name, tensor in model.items():
            assert torch.equal(state[name], tensor), (index, name)


def test_finished_run_has_weights_equal_to_the_final_trainer(a2c_run):
    models = final_models(a2c_run)
    assert len(models) >= 2  # fig1's mixed condition trains several learners
    assert_same_models(load_weights(a2c_run / WEIGHTS_FILE), models)
    assert_same_models(load_weights(a2c_run.parent), models)  # the unit folder finds checkpoints/ itself


def test_standard_tools_load_it_and_the_snippet_works(a2c_run):
    tensors = safetensors_torch.load_file(str(a2c_run / WEIGHTS_FILE))
    models = final_models(a2c_run)
    assert set(tensors) == {f"learner_{index}.{name}" for index, model in enumerate(models) for name in model}
    info = json.loads((a2c_run / WEIGHTS_INFO_FILE).read_text())
    assert (info["algo"], info["condition"], info["seed"], info["num_learners"]) == ("a2c", "mixed", 0, len(models))
    assert info["hyperparameters"]["num_iterations"] == 2 and info["package"]["name"] == "ipd-env"
    assert len(info["load"]) == len(LOAD_SNIPPET) == 5
    namespace: dict = {}
    code = "\n".join(info["load"]).replace("'weights.safetensors'", repr(str(a2c_run / WEIGHTS_FILE)))
    exec(code, namespace)  # the snippet as a user pastes it
    assert_same_models(namespace["learners"], models)


def test_a2c_models_load_the_weights(a2c_run):
    from agents.a2c import A2CModel
    from agents.harness.runner import read_trained_run
    from agents.pool import IDENTITY_MODES

    _, run = read_trained_run(a2c_run.parent)
    model = A2CModel.from_config(run.config, run.pool_mode in IDENTITY_MODES)
    model.load_state_dict(load_weights(a2c_run)["learner_1"])  # strict: every name and shape matches


@pytest.mark.parametrize("damage", ["flip a byte", "truncate", "append"])
def test_a_damaged_or_edited_file_is_refused_in_one_line_naming_it(a2c_run, tmp_path, damage):
    for name in (WEIGHTS_FILE, WEIGHTS_INFO_FILE):
        (tmp_path / name).write_bytes((a2c_run / name).read_bytes())
    path = tmp_path / WEIGHTS_FILE
    data = bytearray(path.read_bytes())
    if damage == "flip a byte":
        data[-3] ^= 0x01  # inside the last tensor's bytes: safetensors itself would load it
        assert safetensors_torch.load(bytes(data)) is not None
    elif damage == "truncate":
        data = data[:-7]
    else:
        data += b"\0"
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError) as raised:
        load_weights(path)
    message = str(raised.value)
    assert "\n" not in message and str(path) in message and "damaged or edited" in message


def test_weights_without_their_checksum_are_refused(a2c_run, tmp_path):
    (tmp_path / WEIGHTS_FILE).write_bytes((a2c_run / WEIGHTS_FILE).read_bytes())
    with pytest.raises(ValueError, match="cannot verify weights .*weights.json.* is missing"):
        load_weights(tmp_path / WEIGHTS_FILE)
    with pytest.raises(FileNotFoundError, match="are missing"):
        load_weights(tmp_path / "nothing" / WEIGHTS_FILE)


def test_plain_torch_load_reads_a_run_checkpoint(a2c_run):
    """``torch.load(final.pt, weights_only=True)`` (torch's default since 2.6; docs/reproduce.md): the checksum is
    the file's last line, after the zip that torch.save wrote."""
    state = torch.load(a2c_run / "final.pt", weights_only=True)
    assert_same_models({f"learner_{index}": model for index, model in enumerate(state["trainer"]["models"])},
                       final_models(a2c_run))


def test_ppi_and_batched_seeds_write_the_final_weights_too(tmp_path):
    run_unit("ppi", "step1", "step1", 0, "test", tmp_path / "ppi", progress=False)
    checkpoints = unit_dir(tmp_path / "ppi", "step1", 0) / "checkpoints"
    assert_same_models(load_weights(checkpoints), final_models(checkpoints))
    from agents.harness.runner import make_unit

    units = [make_unit("a2c", "step1", "step1", seed, "test", {"num_iterations": 2}) for seed in (0, 1)]
    train_seed_batch(units, tmp_path / "batch", progress=False)
    for seed in (0, 1):
        checkpoints = unit_dir(tmp_path / "batch", "step1", seed) / "checkpoints"
        assert_same_models(load_weights(checkpoints), final_models(checkpoints))
