"""Find VGG16 ImageNet weights without ever deleting a user's file.

Keras' ``get_file`` deletes and re-downloads a cached file whose hash does not
match; a user who copied the file by hand would lose it. So we look in the
Keras cache ourselves, check the md5, and only call ``get_file`` when the file
is absent and the network answers. Offline, we fail in about a second with a
message naming the file, its md5 and where to put it.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
from pathlib import Path

from bamnet_core.contract import ConfigError

WEIGHTS_FILE = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
# From keras/src/applications/vgg16.py (WEIGHTS_PATH_NO_TOP and its file_hash).
WEIGHTS_MD5 = "6d6bbae143d832006294945121d1f1fc"
WEIGHTS_URL = ("https://storage.googleapis.com/tensorflow/keras-applications/vgg16/"
               + WEIGHTS_FILE)
PROBE = ("storage.googleapis.com", 443)
PROBE_TIMEOUT_S = 1.5


def keras_models_dir() -> Path:
    """Where Keras caches application weights: ``$KERAS_HOME/models`` (default ~/.keras)."""
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras") / "models"


def md5sum(path: Path) -> str:
    """The md5 of a file, read in chunks."""
    digest = hashlib.md5()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def network_reachable(address: tuple[str, int] = PROBE,
                      timeout: float = PROBE_TIMEOUT_S) -> bool:
    """Whether a TCP connection to ``address`` opens within ``timeout`` (DNS included)."""
    result: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection(address, timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    # DNS lookups ignore socket timeouts, so the probe runs in a thread we stop waiting for.
    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(result and result[0])


def _how_to_fix(target: Path) -> str:
    return (f"download {WEIGHTS_URL} (md5 {WEIGHTS_MD5}) on a machine with a network and put "
            f"it at {target} ($KERAS_HOME/models/, default ~/.keras/models/); or set "
            '[backbone] weights = "<path to the .h5>", or weights = "none" to train from scratch')


def imagenet_weights() -> Path:
    """The path of the notop ImageNet weights, downloading them only if absent and online."""
    target = keras_models_dir() / WEIGHTS_FILE
    if target.is_file():
        actual = md5sum(target)
        if actual != WEIGHTS_MD5:
            raise ConfigError(
                f"VGG16 ImageNet weights {target} have md5 {actual}, expected {WEIGHTS_MD5}; "
                "the file was left in place", hint=_how_to_fix(target))
        return target
    if os.environ.get("BAMNET_OFFLINE", "") not in ("", "0") or not network_reachable():
        raise ConfigError(
            f"VGG16 ImageNet weights {WEIGHTS_FILE} (md5 {WEIGHTS_MD5}) are not in "
            f"{target.parent} and there is no network to download them",
            hint=_how_to_fix(target))
    import keras

    # The file is absent, so get_file has nothing of the user's to delete.
    return Path(keras.utils.get_file(WEIGHTS_FILE, WEIGHTS_URL, cache_subdir="models",
                                     file_hash=WEIGHTS_MD5))


def resolve_weights(weights: str) -> Path | None:
    """``"imagenet"`` -> the cached file; ``"none"`` -> None; else an existing .h5 path."""
    if weights == "none":
        return None
    if weights == "imagenet":
        return imagenet_weights()
    path = Path(weights).expanduser()
    if not path.is_file():
        raise ConfigError(f"[backbone] weights {weights!r}: no such file",
                          hint='give "imagenet", "none" or the path of a VGG16 notop .h5 file')
    if not path.name.endswith(".h5"):
        raise ConfigError(f"[backbone] weights {weights!r}: expected a Keras .h5 weights file",
                          hint=f"the ImageNet file is {WEIGHTS_FILE}")
    return path


def missing_weights(weights: str) -> list[tuple[str, str]]:
    """``weights`` that cannot be had now, as ``(what, how to get it)``; [] when they can.

    Checked before a run starts. ImageNet weights count as available when the
    cached file is there or the network answers (training downloads them then).
    """
    if weights == "none":
        return []
    if weights != "imagenet":
        path = Path(weights).expanduser()
        return [] if path.is_file() else \
            [(f"VGG16 weights file {path}", 'place the .h5 there, or set [backbone] weights = '
              '"imagenet" or "none"')]
    target = keras_models_dir() / WEIGHTS_FILE
    if target.is_file():
        return []
    if os.environ.get("BAMNET_OFFLINE", "") not in ("", "0") or not network_reachable():
        return [(f"VGG16 ImageNet weights ({target} absent, no network to download it)",
                 _how_to_fix(target))]
    return []
