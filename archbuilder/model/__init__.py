"""Concrete spec -> compiled `keras.Model`: `build` (via each family's builder), `compile`, `summary`.

`host_init` draws initial weights with NumPy on JAX (no compilation per weight shape).
"""
