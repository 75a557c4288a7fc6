"""The DCGAN trains on the JAX backend, resumes there, and its generator loads under TensorFlow."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from bamnet_testing import python

TRAIN_ON_JAX = """
import json, sys
from pathlib import Path
import keras, numpy as np
from bamnet_paper.generators.dcgan import DCGANGenerator
from bamnet_paper.sources.synthetic import SyntheticCXRSource

out = Path(sys.argv[1])
real = [s for s in SyntheticCXRSource(patients_per_class=6, size=32,
                                      root=str(out / "phantoms")).samples()
        if s.label == "covid"]
options = dict(epochs=4, batch_size=4, size=16, latent_dim=8, g_filters=4, d_filters=4,
               min_images=2, augment=["color", "translation", "cutout"], label_smoothing=0.1)

def stop(event):
    if event.fields.get("epoch") == 3:
        raise KeyboardInterrupt

try:
    DCGANGenerator(**options).fit(real, workdir=out / "gen", seed=1, progress=stop)
except KeyboardInterrupt:
    pass
epochs = []
gan = DCGANGenerator(**options)
gan.fit(real, workdir=out / "gen", seed=1, progress=lambda e: epochs.append(e.fields["epoch"]))
z = np.random.default_rng(0).standard_normal((4, 8)).astype("float32")
np.save(out / "z.npy", z)
np.save(out / "y.npy", keras.ops.convert_to_numpy(gan._generator(z, training=False)))
print(json.dumps({"backend": keras.backend.backend(), "resumed_epochs": sorted(set(epochs))}))
"""


@pytest.mark.slow  # a subprocess imports JAX and trains
def test_gan_trains_and_resumes_on_jax_and_its_generator_loads_under_tensorflow(tmp_path):
    pytest.importorskip("jax")
    import keras

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "KERAS_BACKEND": "jax",
           "PYTHONPATH": f"{root}{os.pathsep}{root / 'plugins'}"}
    done = subprocess.run([python(), "-c", TRAIN_ON_JAX, str(tmp_path)], env=env, cwd=root,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {"backend": "jax", "resumed_epochs": [3, 4]}
    rows = (tmp_path / "gen" / "losses.csv").read_text().splitlines()[1:]
    assert [r.split(",")[0] for r in rows] == ["1", "2", "3", "4"]
    assert keras.backend.backend() == "tensorflow"
    model = keras.models.load_model(tmp_path / "gen" / "generator.keras")
    z, y = np.load(tmp_path / "z.npy"), np.load(tmp_path / "y.npy")
    assert np.allclose(keras.ops.convert_to_numpy(model(z, training=False)), y, atol=1e-5)
