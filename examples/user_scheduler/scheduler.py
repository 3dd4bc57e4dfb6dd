"""The user's scheduler code for sweep.yaml: run by `sweepkit scheduler ID`, never by the server.

``optimizer()`` builds the Optuna sampler; ``search_space(trial)`` asks the trial for each
parameter, define-by-run: which parameters a run has depends on the model it draws.
"""

import optuna


def optimizer():
    return optuna.samplers.NSGAIISampler(population_size=8, seed=0)


def search_space(trial):
    model = trial.suggest_categorical("model", ["linear", "tree"])
    if model == "linear":
        trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    else:
        trial.suggest_int("depth", 1, 12)
    trial.suggest_float("dropout", 0.0, 0.5)
