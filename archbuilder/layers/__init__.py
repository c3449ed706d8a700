"""Layers: the `custom` family's allow-list (`registry`) and archbuilder's own Keras layers.

This package's `__init__` imports nothing, so `archbuilder.layers.registry` can be read
by `validate` without importing Keras; the modules holding Keras layers import it
themselves.
"""
