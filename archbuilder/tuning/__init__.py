"""Search: a spec's spaces as keras-tuner hyperparameters (`space`, `hypermodel`), its tuners and oracles
(`tuners`), the trial table (`trials`), distributed workers and their job (`workers`, `job`), `search.tune`."""
