"""The Keras side's building material: blocks every family builds with, archbuilder's own layers, safe loading.

`blocks` (the `Graph` that ties each layer to its spec path, dense and conv
blocks, augmentation), `penalties` and `keras_layers` (archbuilder's registered
layers), `safe_load` (model files checked before Keras deserializes them). This
package's `__init__` imports nothing, so `safe_load` can check a file without Keras.
"""
