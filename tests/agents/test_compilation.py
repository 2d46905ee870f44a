"""The ``compile`` run setting: torch.compile of A2C's hot path, and its clean fallback."""
import json
import warnings

import pytest
import torch

from agents import compilation
from agents.a2c import ALGORITHM, A2CTrainer, policy_step
from agents.algorithm import RunSettings, saved_record
from agents.compilation import COMPILE_MODES, Compiled, CompileFallbackWarning, maybe_compiled


def trainer(compile_mode: str, seed: int = 0) -> A2CTrainer:
    config, settings = ALGORITHM.make_run("test", paper_step=4, overrides={"compile": compile_mode})
    return A2CTrainer(config, settings, pool_mode="mixed", num_learners=2, seed=seed)


def train(compile_mode: str, iterations: int = 2) -> list:
    run = trainer(compile_mode)
    return [run.train_unit(index) for index in range(iterations)]


@pytest.mark.parametrize("bad", ["fast", "", "Default", 1, None])
def test_an_unknown_mode_is_one_error_naming_the_setting(bad):
    with pytest.raises(ValueError, match="^run setting compile must be"):
        RunSettings(compile=bad)


def test_off_is_the_default_and_leaves_the_function_itself():
    assert RunSettings().compile == "off" and COMPILE_MODES[0] == "off"
    assert maybe_compiled(policy_step, "off", "x") is policy_step
    assert isinstance(maybe_compiled(policy_step, "default", "x"), Compiled)


def test_a_folder_written_before_the_setting_reads_as_off():
    old = {"hyperparameters": {"num_iterations": 3}, "settings": {"num_rounds": 10}}
    assert saved_record(old)["settings"] == {"compile": "off", "num_rounds": 10}
    older = {"hyperparameters": {"num_iterations": 3, "num_rounds": 10}}
    assert saved_record(older)["settings"] == {"compile": "off", "num_rounds": 10}
    assert saved_record({"settings": {"compile": "default"}, "hyperparameters": {}})["settings"]["compile"] == "default"


def failing_compile(*args, **kwargs):
    def compiled(*call_args, **call_kwargs):
        raise RuntimeError("no C++ compiler found\nsecond line of a long backend error")
    return compiled


def test_a_compile_that_fails_falls_back_with_one_line_per_function_and_the_eager_result(monkeypatch):
    expected = train("off")
    monkeypatch.setattr(torch, "compile", failing_compile)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = train("default")
    assert got == expected  # every metric of every iteration, exactly
    messages = [str(item.message) for item in caught if issubclass(item.category, CompileFallbackWarning)]
    # the loss is compiled once per trainer, the policy step once per learner
    assert len(messages) == 3, messages
    assert all("\n" not in message and "no C++ compiler found" in message and "runs uncompiled" in message
               and "second line" not in message for message in messages)
    assert sum("the A2C loss" in message for message in messages) == 1


def test_an_interpreter_without_dynamo_falls_back_before_compiling(monkeypatch):
    monkeypatch.setattr(compilation, "compile_unavailable", lambda: "TorchDynamo does not support this Python")
    with pytest.warns(CompileFallbackWarning, match="TorchDynamo does not support this Python; it runs uncompiled"):
        wrapped = Compiled(lambda x: x + 1, "default", "f")
    assert not wrapped.compiled and wrapped(1) == 2


class _BrokenBackward(torch.autograd.Function):
    @staticmethod
    def forward(ctx, value):
        return value.clone()

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("compiled backward failed to build")


def test_a_backward_that_fails_reruns_the_batch_uncompiled(monkeypatch):
    """A compiled backward is built at the first ``backward()``, outside the wrapper: the trainer
    catches it, falls back and redoes that batch eagerly, so training equals the eager run."""
    expected = train("off")

    def compile_with_broken_backward(function, **kwargs):
        def compiled(*args, **call_kwargs):
            loss, parts = function(*args, **call_kwargs)
            return _BrokenBackward.apply(loss), parts
        return compiled

    monkeypatch.setattr(torch, "compile", compile_with_broken_backward)
    with pytest.warns(CompileFallbackWarning, match="the A2C loss: RuntimeError: compiled backward failed"):
        run = trainer("default")  # (the policy step runs under no_grad: its broken backward is never called)
        got = [run.train_unit(index) for index in range(2)]
    assert got == expected


def test_compiled_training_matches_eager_within_rounding_or_falls_back_exactly():
    """The real torch.compile on this machine: the same actions (rewards, cooperation) as eager and
    losses within float32 rounding; where it cannot compile, the fallback gives eager's numbers."""
    expected = train("off")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = train("default")
    fell_back = any(issubclass(item.category, CompileFallbackWarning) for item in caught)
    for want, have in zip(expected, got):
        assert set(want) == set(have)
        for key in want:
            if fell_back or not key.startswith("loss/"):
                assert have[key] == want[key], key
            else:
                assert have[key] == pytest.approx(want[key], rel=1e-4, abs=1e-6), key


def test_the_setting_is_stored_with_the_run(tmp_path):
    from agents.harness.runner import run_unit

    out = tmp_path / "run"
    with pytest.warns(CompileFallbackWarning):
        torch_compile = torch.compile
        try:
            torch.compile = failing_compile
            run_unit("a2c", "step1", "step1", 0, "test", out, progress=False, overrides={"compile": "default"})
        finally:
            torch.compile = torch_compile
    config = json.loads((out / "step1" / "seed_0" / "config.json").read_text())
    assert config["settings"]["compile"] == "default"


def test_what_does_not_compile_refuses_the_setting_in_one_line():
    from agents.a2c_batched import SeedBatchedA2CTrainer
    from agents.ppi import ALGORITHM as PPI

    with pytest.raises(ValueError, match=r"^run setting compile='default': ppi does not compile its training"):
        PPI.make_run("test", paper_step=1, overrides={"compile": "default"})
    config, settings = ALGORITHM.make_run("test", paper_step=4, overrides={"compile": "reduce-overhead"})
    with pytest.raises(ValueError, match="the seed-batched trainer .--batch-seeds. runs uncompiled"):
        SeedBatchedA2CTrainer(config, settings, pool_mode="mixed", num_learners=2, seeds=[0, 1])


def test_batch_seeds_with_compile_is_refused_before_the_folder_is_touched(tmp_path):
    from agents.harness.runner import run_experiment

    out = tmp_path / "run"
    with pytest.raises(ValueError, match="the seed-batched trainer .--batch-seeds. runs uncompiled"):
        run_experiment("step1", "a2c", "test", seeds=2, out=out, progress=False, batch_seeds=True,
                       overrides={"compile": "default"})
    assert not out.exists()


def test_a_ppi_data_set_is_tied_to_the_same_fingerprint_as_before_the_setting(tmp_path):
    """PPI's manifest ties its data to the run's settings; a data set written before ``compile`` existed has no
    such key, so at ``"off"`` it is left out: an unfinished old PPI run still resumes onto its data."""
    from agents.harness.checkpoint import DATA_FOLDER
    from agents.harness.runner import run_unit, unit_dir

    run_unit("ppi", "step1", "step1", 0, "test", tmp_path, progress=False, stop_after=1)
    manifest = json.loads((unit_dir(tmp_path, "step1", 0) / DATA_FOLDER / "manifest.json").read_text())
    assert "compile" not in manifest["config"]["hyperparameters"]
    assert manifest["config"]["hyperparameters"]["num_rounds"] == 10  # the other run settings are still there
    run_unit("ppi", "step1", "step1", 0, "test", tmp_path, progress=False, resume=True)
