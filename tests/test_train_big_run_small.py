"""The DDP round trip: examples/train_big_run_small.py trains a `to_torch` model on two processes
(torchrun, CPU, gloo) with DistributedDataParallel; the nnpy file it saves predicts what torch's
trained module predicts."""

import os
import shutil
import socket
import subprocess
from pathlib import Path

import numpy as np
import pytest

import nnpy

pytest.importorskip("torch")
ROOT = Path(__file__).resolve().parents[1]


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_model_trained_with_ddp_on_two_processes_runs_in_nnpy(tmp_path):
    torchrun = shutil.which("torchrun") or pytest.skip("torchrun is not installed")
    out, probe = tmp_path / "stripes.safetensors", tmp_path / "probe.npz"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    subprocess.run([torchrun, "--nproc_per_node=2", "--master_addr=127.0.0.1",
                    f"--master_port={_free_port()}", str(ROOT / "examples" / "train_big_run_small.py"),
                    "--out", str(out), "--probe", str(probe), "--steps", "10"],
                   env=env, check=True, capture_output=True, text=True, timeout=600)
    model = nnpy.load_model(out)
    sample = np.load(probe)
    assert model.labels == ["horizontal", "vertical"]
    assert np.abs(model.forward(sample["images"]) - sample["outputs"]).max() < 1e-5
    assert np.abs(sample["outputs"] - sample["initial"]).max() > 0.1  # it did train
    assert (model.predict(sample["images"]).argmax(axis=1) ==
            sample["outputs"].argmax(axis=1)).all()
