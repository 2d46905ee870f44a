"""benchmarks/ppi_throughput.py runs end to end in its quick mode (speed itself is never asserted)."""
import os
import subprocess
import sys

REPOSITORY = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_ppi_throughput_quick_prints_both_comparisons_and_the_paper_estimate():
    script = os.path.join(REPOSITORY, "benchmarks", "ppi_throughput.py")
    result = subprocess.run([sys.executable, script, "--quick", "--threads", "1"],
                            capture_output=True, text=True, timeout=120, check=True, cwd=REPOSITORY)
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ") and "---" not in line]
    names = [row.split("|")[1].strip() for row in rows]
    assert names[1].startswith("planner decisions/s") and names[2].startswith("training tokens/s")
    for row in rows[1:3]:
        ppi, bare = (float(cell.replace(",", "")) for cell in row.split("|")[2:4])
        assert ppi > 0 and bare > 0
    # 2 learners x 30 phases x 20,000 episodes x 100 rounds of planner decisions at the paper's scale.
    assert "1.2e+08 planner decisions" in result.stdout
    assert "estimated wall time" in result.stdout
