"""Smoke test of benchmarks/train_throughput.py --quick (prints a table; no timing asserts)."""
import pytest

from helpers import ROOT, load_script

pytest.importorskip("sb3_contrib", reason="needs the [sb3] extra: pip install -e '.[sb3]'")
BENCHMARK = ROOT / "benchmarks" / "train_throughput.py"


def test_quick_benchmark_prints_a2c_and_recurrent_ppo_rows(capsys):
    rows = load_script(BENCHMARK, "train_throughput").main(["--quick"])
    names = [row[0] for row in rows]
    assert any(name.startswith("A2C") for name in names) and any("RecurrentPPO" in name for name in names)
    assert all(rate > 0 for *_, rate in rows)
    output = capsys.readouterr().out
    assert "agent-steps/s" in output
    assert "| nn.GRU (torch)  | hand-written    | hand-written / torch, wall (CPU) |" in output
