"""End-to-end check of `switchyard eval` against NumPy (run by .ci/run).

Usage: python tests/numpy_check.py PATH/TO/switchyard
Writes random float32 inputs with NumPy, evaluates expressions with the CLI (--out),
and compares with NumPy's float32 result within a few ulp.
"""
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

# (expression, NumPy's float32 answer, the magnitude of the terms that make up each element).
# "Within f32 rounding" means: |switchyard - numpy| <= 8 float32 epsilons of that magnitude.
# (Measuring against the result itself would fail where terms cancel to nearly zero.)
CASES = [
    (
        "exp(x*2+1)*y - x",
        lambda x, y: np.exp(x * np.float32(2) + np.float32(1)) * y - x,
        lambda x, y: np.abs(np.exp(x.astype(np.float64) * 2 + 1) * y) + np.abs(x),
    ),
    (
        "sum((x - y)**2)",
        lambda x, y: np.sum((x - y) ** 2),
        lambda x, y: np.sum((x.astype(np.float64) - y) ** 2),
    ),
    ("maximum(x, y)[::-2]", lambda x, y: np.maximum(x, y)[::-2], lambda x, y: np.zeros(len(x) // 2)),
]
EPS32 = float(np.finfo(np.float32).eps)


def main() -> int:
    exe = sys.argv[1]
    rng = np.random.default_rng(7)
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        x = rng.standard_normal(10_000, dtype=np.float32)
        y = rng.standard_normal(10_000, dtype=np.float32)
        np.save(d / "x.npy", x)
        np.save(d / "y.npy", y)
        for expr, reference, magnitude in CASES:
            out = d / "out.npy"
            subprocess.run(
                [exe, "eval", expr, "--input", f"x={d/'x.npy'}", "--input", f"y={d/'y.npy'}", "--out", str(out)],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            got = np.load(out)
            want = np.asarray(reference(x, y), dtype=np.float32)
            diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
            ok = got.dtype == want.dtype and got.shape == want.shape and bool(np.all(diff <= 8 * EPS32 * magnitude(x, y)))
            print(f"{'ok  ' if ok else 'FAIL'} {expr}: dtype {got.dtype} shape {got.shape}")
            if not ok:
                failures += 1
                print("  max abs diff", np.max(diff))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
