"""Runs: a spec trained into a run directory (`train`), compared (`compare`), evaluated and predicted (`inference`).

`rundir.RunDir` is the run directory; `prepare` loads a spec's data, `device` sets
seeds and precision, `fit` is the one fit loop, `callbacks` checkpoint and resume,
`reports` writes the human-readable files.
"""
