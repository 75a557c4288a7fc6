"""Small private helpers every layer may use: atomic writes, the cache folder, progress events.

Nothing here knows about images, models or plugins. Plugins must not import
from here; the public names they need are re-exported by
:mod:`bamnet_core.contract`.
"""
