"""Smoke test of benchmarks/cpu_hot_path.py --quick (prints its table; no timing asserts)."""
import pytest

from helpers import ROOT, load_script

BENCHMARK = ROOT / "benchmarks" / "cpu_hot_path.py"


def load_benchmark():
    return load_script(BENCHMARK, "cpu_hot_path")


def test_quick_benchmark_prints_every_variant_beside_the_reference(capsys):
    rows = load_benchmark().main(["--quick", "--blocks", "1"])
    variants = {(kind, threads) for _, _, kind, threads, _, _ in rows}
    assert variants == {("fp32", 1), ("fp32", 2), ("bf16 autocast", 1), ("bf16 autocast", 2)}
    reference = [row for row in rows if row[2:4] == ("fp32", 1)]
    assert all(rate > 0 for *_, rate, _ in rows) and all(ratio == 1.0 for *_, ratio in reference)
    assert "| fig1 mixed | 32 | fp32 | 1 |" in capsys.readouterr().out


def test_bad_blocks_is_one_line(capsys):
    with pytest.raises(SystemExit) as caught:
        load_benchmark().main(["--quick", "--blocks", "0"])
    assert caught.value.code == 2 and "--blocks must be >= 1, got 0" in capsys.readouterr().err
