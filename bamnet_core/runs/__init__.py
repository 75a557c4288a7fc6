"""The run folder: its layout, file names and ``meta.json``; written atomically."""
