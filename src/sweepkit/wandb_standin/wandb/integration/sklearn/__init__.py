"""``wandb.integration.sklearn`` (also ``wandb.sklearn``) in sweepkit's stand-in: W&B's scikit-learn
charts, written for sweepkit.

Each ``plot_*`` function logs one chart under W&B's key (``roc``, ``confusion_matrix``,
``precision_recall``, ``feature_importances``, ``class_proportions``, ``calibration_curve``,
``summary_metrics``, ``learning_curve``, ``residuals``, ``elbow_curve``, ``silhouette_plot``): its
table is a file in the run folder, as for ``wandb.plot`` charts. ``plot_classifier``,
``plot_regressor`` and ``plot_clusterer`` log the charts W&B's do for that kind of model, but for
``plot_outlier_candidates`` (Cook's distance), which is noted and skipped. scikit-learn and numpy
are imported only when a chart is made.
"""

from __future__ import annotations

from typing import Any

import wandb


def _np():
    import numpy

    return numpy


def _names(values: Any, labels: Any) -> list[str]:
    """Class values as text, through ``labels`` when the values are indexes into it."""
    out = []
    for value in _np().asarray(values).tolist():
        if labels is not None and isinstance(value, int) and 0 <= value < len(labels):
            out.append(str(labels[value]))
        else:
            out.append(str(value))
    return out


def _log(key: str, chart: Any) -> None:
    if wandb.run is None:
        raise wandb.Error(f"You must call wandb.init() before wandb.sklearn.plot_{key}()")
    wandb.log({key: chart})


def plot_roc(y_true=None, y_probas=None, labels=None, plot_micro=True, plot_macro=True, classes_to_plot=None):
    classes = _class_labels(y_true, y_probas, labels)
    _log(
        "roc", wandb.plot.roc_curve(_np().asarray(y_true).tolist(), _np().asarray(y_probas).tolist(), classes)
    )


def plot_precision_recall(y_true=None, y_probas=None, labels=None, plot_micro=True, classes_to_plot=None):
    classes = _class_labels(y_true, y_probas, labels)
    chart = wandb.plot.pr_curve(_np().asarray(y_true).tolist(), _np().asarray(y_probas).tolist(), classes)
    _log("precision_recall", chart)


def _class_labels(y_true: Any, y_probas: Any, labels: Any) -> list[str] | None:
    if labels is not None:
        return [str(label) for label in labels]
    return None


def plot_confusion_matrix(
    y_true=None, y_pred=None, labels=None, true_labels=None, pred_labels=None, normalize=False
):
    chart = wandb.plot.confusion_matrix(
        y_true=_names(y_true, labels), preds=_names(y_pred, labels), title="Confusion Matrix"
    )
    _log("confusion_matrix", chart)


def plot_feature_importances(model=None, feature_names=None, title="Feature Importance", max_num_features=50):
    np = _np()
    values = getattr(model, "feature_importances_", None)
    if values is None and getattr(model, "coef_", None) is not None:
        values = np.abs(np.asarray(model.coef_)).reshape(-1, len(np.asarray(model.coef_).reshape(-1)))[0]
    if values is None:
        wandb.termwarn("plot_feature_importances: the model has no feature_importances_ or coef_; skipped")
        return
    values = np.asarray(values, dtype=float).reshape(-1)
    names = list(feature_names) if feature_names is not None else [str(i) for i in range(len(values))]
    order = np.argsort(values)[::-1][:max_num_features]
    table = wandb.Table(
        columns=["feature_names", "importance"], data=[[str(names[i]), float(values[i])] for i in order]
    )
    _log("feature_importances", wandb.plot.bar(table, "feature_names", "importance", title=title))


def plot_class_proportions(y_train=None, y_test=None, labels=None):
    table = wandb.Table(columns=["class", "dataset", "count"])
    for dataset, values in (("train", y_train), ("test", y_test)):
        names = _names(values, labels)
        for name in sorted(set(names)):
            table.add_data(name, dataset, names.count(name))
    _log("class_proportions", wandb.plot.bar(table, "class", "count", title="Class Proportions"))


def plot_calibration_curve(clf=None, X=None, y=None, clf_name="Classifier"):  # noqa: N803
    from sklearn.calibration import calibration_curve

    np = _np()
    y = np.asarray(y)
    if len(np.unique(y)) != 2 or not hasattr(clf, "predict_proba"):
        wandb.termwarn("plot_calibration_curve: drawn for binary classifiers with predict_proba; skipped")
        return
    positives, predicted = calibration_curve(y, clf.predict_proba(X)[:, 1], n_bins=10)
    table = wandb.Table(columns=["model_name", "fraction_of_positives", "mean_predicted_value"])
    for fraction, mean in zip(positives.tolist(), predicted.tolist(), strict=True):
        table.add_data(clf_name, fraction, mean)
    chart = wandb.plot.line(
        table, "mean_predicted_value", "fraction_of_positives", stroke="model_name", title="Calibration Curve"
    )
    _log("calibration_curve", chart)


def plot_summary_metrics(model=None, X=None, y=None, X_test=None, y_test=None):  # noqa: N803
    from sklearn import metrics
    from sklearn.base import is_classifier

    predictions = model.predict(X_test)
    if is_classifier(model):
        values = {
            "accuracy_score": metrics.accuracy_score(y_test, predictions),
            "precision": metrics.precision_score(y_test, predictions, average="weighted", zero_division=0),
            "recall": metrics.recall_score(y_test, predictions, average="weighted", zero_division=0),
            "f1_score": metrics.f1_score(y_test, predictions, average="weighted", zero_division=0),
        }
    else:
        values = {
            "mae": metrics.mean_absolute_error(y_test, predictions),
            "mse": metrics.mean_squared_error(y_test, predictions),
            "r2_score": metrics.r2_score(y_test, predictions),
        }
    name = type(model).__name__
    table = wandb.Table(
        columns=["metric_name", "metric_value", "model_name"],
        data=[[key, round(float(value), 4), name] for key, value in values.items()],
    )
    _log("summary_metrics", wandb.plot.bar(table, "metric_name", "metric_value", title="Summary Metrics"))


def plot_learning_curve(
    model=None,
    X=None,
    y=None,
    cv=None,
    shuffle=False,
    random_state=None,
    train_sizes=None,
    n_jobs=1,
    scoring=None,
):  # noqa: N803
    from sklearn.model_selection import learning_curve

    np = _np()
    sizes = train_sizes if train_sizes is not None else np.linspace(0.1, 1.0, 5)
    used, train, test = learning_curve(
        model,
        X,
        y,
        cv=cv,
        train_sizes=sizes,
        shuffle=shuffle,
        random_state=random_state,
        n_jobs=n_jobs,
        scoring=scoring,
    )
    table = wandb.Table(columns=["dataset", "score", "train_size"])
    for size, train_score, test_score in zip(
        used.tolist(), train.mean(axis=1).tolist(), test.mean(axis=1).tolist(), strict=True
    ):
        table.add_data("train", train_score, size)
        table.add_data("test", test_score, size)
    _log(
        "learning_curve",
        wandb.plot.line(table, "train_size", "score", stroke="dataset", title="Learning Curve"),
    )


def plot_residuals(regressor=None, X=None, y=None):  # noqa: N803
    np = _np()
    predicted = np.asarray(regressor.predict(X), dtype=float).reshape(-1)
    residual = np.asarray(y, dtype=float).reshape(-1) - predicted
    table = wandb.Table(
        columns=["y_pred", "residuals"],
        data=[[p, r] for p, r in zip(predicted.tolist(), residual.tolist(), strict=True)],
    )
    _log("residuals", wandb.plot.scatter(table, "y_pred", "residuals", title="Residuals"))


def plot_outlier_candidates(regressor=None, X=None, y=None):  # noqa: N803
    wandb.termwarn("wandb.sklearn.plot_outlier_candidates: not drawn by sweepkit; skipped")


def plot_elbow_curve(clusterer=None, X=None, cluster_ranges=None, n_jobs=1, show_cluster_time=True):  # noqa: N803
    from sklearn.base import clone

    table = wandb.Table(columns=["cluster_ranges", "errors"])
    for k in cluster_ranges or range(1, 10, 2):
        model = clone(clusterer).set_params(n_clusters=k).fit(X)
        table.add_data(k, float(abs(model.score(X))))
    _log("elbow_curve", wandb.plot.line(table, "cluster_ranges", "errors", title="Elbow Curve"))


def plot_silhouette(
    clusterer=None, X=None, cluster_labels=None, labels=None, metric="euclidean", kmeans=True
):  # noqa: N803
    from sklearn.metrics import silhouette_samples

    np = _np()
    if cluster_labels is None:
        cluster_labels = clusterer.fit_predict(X)
    values = silhouette_samples(X, cluster_labels, metric=metric)
    order = np.lexsort((values, np.asarray(cluster_labels)))
    table = wandb.Table(columns=["index", "silhouette", "cluster"])
    for rank, i in enumerate(order.tolist()):
        table.add_data(rank, float(values[i]), str(np.asarray(cluster_labels)[i]))
    _log("silhouette_plot", wandb.plot.bar(table, "index", "silhouette", title="Silhouette"))


def plot_classifier(
    model, X_train, X_test, y_train, y_test, y_pred, y_probas, labels,  # noqa: N803
    is_binary=False, model_name="Classifier", feature_names=None, log_learning_curve=False,
):  # fmt: skip
    plot_feature_importances(model, feature_names)
    if log_learning_curve:
        plot_learning_curve(model, X_train, y_train)
    plot_confusion_matrix(y_test, y_pred, labels)
    plot_summary_metrics(model, X=X_train, y=y_train, X_test=X_test, y_test=y_test)
    plot_class_proportions(y_train, y_test, labels)
    plot_calibration_curve(model, X_train, y_train, model_name)
    plot_roc(y_test, y_probas, labels)
    plot_precision_recall(y_test, y_probas, labels)


def plot_regressor(model, X_train, X_test, y_train, y_test, model_name="Regressor"):  # noqa: N803
    plot_summary_metrics(model, X_train, y_train, X_test, y_test)
    plot_learning_curve(model, X_train, y_train)
    plot_outlier_candidates(model, X_train, y_train)
    plot_residuals(model, X_train, y_train)


def plot_clusterer(model, X_train, cluster_labels, labels=None, model_name="Clusterer"):  # noqa: N803
    plot_elbow_curve(model, X_train)
    plot_silhouette(model, X_train, cluster_labels, labels=labels, kmeans=True)


__all__ = [name for name in dir() if name.startswith("plot_")]
