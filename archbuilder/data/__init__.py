"""Training data: sources (`datasets`, `readers`), the `data` rule (`parse`), labels, preprocessing, `load`.

No backend: data is read with NumPy, pandas and Pillow.
"""
