"""Benchmark scripts run end to end in their quick mode (speed itself is never asserted)."""
import os
import subprocess
import sys

REPOSITORY = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_env_throughput_quick_prints_every_row():
    script = os.path.join(REPOSITORY, "benchmarks", "env_throughput.py")
    result = subprocess.run(
        [sys.executable, script, "--quick", "--threads", "1", "--devices", "cpu"],
        capture_output=True, text=True, timeout=120, check=True,
    )
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ") and "---" not in line]
    names = [row.split("|")[1].strip() for row in rows]
    assert names == [
        "env", "parallel (PettingZoo)", "aec (PettingZoo)", "gymnasium vs gtft",
        "numpy lookup (ceiling)", "vector", "vector (no checks)", "gymnasium vector",
        "numpy lookup (ceiling)", "vector", "vector (no checks)", "gymnasium vector",
    ]
    for row in rows[1:]:
        env_steps, agent_steps = (float(cell) for cell in row.split("|")[4:6])
        assert env_steps > 0
        assert abs(agent_steps / env_steps - 2) < 0.02  # both printed to 3 significant digits
