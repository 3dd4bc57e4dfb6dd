"""A stand-in for training: two objectives from the parameters (an error and a cost that pull
against each other), computed in a moment, logged as a run of the sweep."""

import math

import sweepkit


def main() -> None:
    run = sweepkit.init()
    cfg = dict(run.config)  # only the parameters this run's model has
    if cfg["model"] == "linear":
        error = 0.3 + 0.05 * (math.log10(cfg["lr"]) + 2.5) ** 2
        cost = 1.0
    else:
        error = 0.1 + 0.4 / cfg["depth"]
        cost = 1.0 + 0.5 * cfg["depth"]
    error += 0.2 * (cfg["dropout"] - 0.2) ** 2
    run.log({"error": error, "cost": cost})
    run.finish()


if __name__ == "__main__":
    main()
