"""``wandb.integration`` in sweepkit's stand-in: the callbacks W&B ships for frameworks (keras,
xgboost, lightgbm, sb3, sklearn), written for sweepkit. Each imports its framework only when it is
itself imported."""
