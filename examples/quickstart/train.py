"""Quick-start training script: an SVM on scikit-learn's handwritten digits, a second or so a run.

It reads its hyperparameters from ``sweepkit.init().config`` (defaults below for a run outside a
sweep), trains on a fixed split, and logs the validation accuracy after each of a few growing
training-set sizes, so that the sweep's history has more than one step.
"""

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

import sweepkit

DEFAULTS = {"C": 1.0, "gamma": 0.001, "kernel": "rbf"}


def main() -> None:
    run = sweepkit.init(config=DEFAULTS)
    cfg = run.config
    X, y = load_digits(return_X_y=True)
    X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    for fraction in (0.25, 0.5, 1.0):
        n = int(len(X_train) * fraction)
        model = make_pipeline(StandardScaler(), SVC(C=cfg.C, gamma=cfg.gamma, kernel=cfg.kernel))
        model.fit(X_train[:n], y_train[:n])
        accuracy = model.score(X_val, y_val)
        run.log({"train_size": n, "val_accuracy": accuracy})
        print(f"C={cfg.C:.4g} gamma={cfg.gamma:.3g} kernel={cfg.kernel} n={n}: val_accuracy={accuracy:.4f}")
    run.finish()


if __name__ == "__main__":
    main()
