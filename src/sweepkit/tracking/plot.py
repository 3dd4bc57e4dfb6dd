"""``wandb.plot``: charts drawn from a table, logged like media (the table is written under the run's folder).

``line``, ``scatter``, ``bar`` and ``histogram`` name columns of a ``Table``; ``line_series``,
``confusion_matrix``, ``pr_curve`` and ``roc_curve`` build the table from plain lists or arrays,
with the standard library only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sweepkit.errors import SweepkitError
from sweepkit.tracking.media import Chart, Table, _lists


def line(table: Table, x: str, y: str, stroke: str | None = None, title: str = "", **_ignored: Any) -> Chart:
    return Chart("line", table, {"x": x, "y": y, **({"stroke": stroke} if stroke else {})}, title)


def scatter(table: Table, x: str, y: str, title: str = "", **_ignored: Any) -> Chart:
    return Chart("scatter", table, {"x": x, "y": y}, title)


def bar(table: Table, label: str, value: str, title: str = "", **_ignored: Any) -> Chart:
    return Chart("bar", table, {"label": label, "value": value}, title)


def histogram(table: Table, value: str, title: str = "", **_ignored: Any) -> Chart:
    return Chart("histogram", table, {"value": value}, title)


def line_series(
    xs: Sequence[Any],
    ys: Sequence[Sequence[float]],
    keys: Sequence[str] | None = None,
    title: str = "",
    xname: str = "x",
    **_ignored: Any,
) -> Chart:
    """Several lines: ``xs`` shared by all (or one list per line), ``ys`` one list per line."""
    ys = _lists(ys)
    xs = _lists(xs)
    keys = list(keys) if keys is not None else [f"key_{i}" for i in range(len(ys))]
    table = Table(columns=["lineKey", "lineVal", "step"])
    for index, series in enumerate(ys):
        line_xs = xs[index] if xs and isinstance(xs[0], (list, tuple)) else xs
        for x, y in zip(line_xs, series, strict=False):
            table.add_data(keys[index], y, x)
    return Chart(
        "line_series",
        table,
        {"step": "step", "lineKey": "lineKey", "lineVal": "lineVal", "xname": xname},
        title,
    )


def confusion_matrix(
    probs: Sequence[Sequence[float]] | None = None,
    y_true: Sequence[Any] | None = None,
    preds: Sequence[Any] | None = None,
    class_names: Sequence[str] | None = None,
    title: str = "Confusion Matrix",
    **_ignored: Any,
) -> Chart:
    """Counts of (actual, predicted) class pairs, from ``preds`` or the arg-max of ``probs``."""
    y_true = list(_lists(y_true if y_true is not None else []))
    if preds is None:
        if probs is None:
            raise SweepkitError("plot.confusion_matrix: give preds or probs")
        preds = [max(range(len(row)), key=row.__getitem__) for row in _lists(probs)]
    preds = list(_lists(preds))
    if len(preds) != len(y_true):
        raise SweepkitError(f"plot.confusion_matrix: {len(y_true)} labels but {len(preds)} predictions")
    classes = sorted(set(y_true) | set(preds), key=str)
    names = list(class_names) if class_names is not None else [str(c) for c in classes]

    def name(label: Any) -> str:
        return names[label] if class_names is not None and isinstance(label, int) else str(label)

    counts: dict[tuple[str, str], int] = {}
    for actual, predicted in zip(y_true, preds, strict=True):
        pair = (name(actual), name(predicted))
        counts[pair] = counts.get(pair, 0) + 1
    table = Table(columns=["Actual", "Predicted", "nPredictions"])
    for actual in names:
        for predicted in names:
            table.add_data(actual, predicted, counts.get((actual, predicted), 0))
    return Chart(
        "confusion_matrix",
        table,
        {"Actual": "Actual", "Predicted": "Predicted", "nPredictions": "nPredictions"},
        title,
    )


def _curves(y_true: Sequence[Any], y_probas: Sequence[Sequence[float]], labels: Sequence[str] | None):
    """Per class: (name, [(threshold, true positives, false positives, positives, negatives)])."""
    y_true = list(_lists(y_true))
    probas = _lists(y_probas)
    n_classes = len(probas[0]) if probas else 0
    classes = sorted(set(y_true), key=str)
    if len(classes) <= n_classes and all(isinstance(c, int) for c in classes):
        classes = list(range(n_classes))
    for index, cls in enumerate(classes[:n_classes]):
        name = labels[index] if labels is not None and index < len(labels) else str(cls)
        scored = sorted(
            ((row[index], actual == cls) for row, actual in zip(probas, y_true, strict=True)), reverse=True
        )
        positives = sum(1 for _score, hit in scored if hit)
        negatives = len(scored) - positives
        points, tp, fp = [], 0, 0
        for score, hit in scored:
            tp, fp = tp + hit, fp + (not hit)
            points.append((score, tp, fp, positives, negatives))
        yield name, points


def _curve_plot(
    kind: str,
    x: str,
    y: str,
    title: str,
    point: Callable[..., tuple[float, float]],
    start: tuple[float, float] | None = None,
) -> Callable[..., Chart]:
    """W&B's ``wandb.plot.<kind>(y_true, y_probas, labels=None, title=...)``: for each class, the
    ``(x, y)`` that ``point(tp, fp, positives, negatives)`` gives at each threshold (after ``start``)."""

    def plot(
        y_true: Sequence[Any],
        y_probas: Sequence[Sequence[float]],
        labels: Sequence[str] | None = None,
        title: str = title,
        **_ignored: Any,
    ) -> Chart:
        table = Table(columns=["class", x, y])
        for name, points in _curves(y_true, y_probas, labels):
            if start is not None:
                table.add_data(name, *start)
            for _score, tp, fp, positives, negatives in points:
                table.add_data(name, *point(tp, fp, positives, negatives))
        return Chart(kind, table, {"x": x, "y": y, "class": "class"}, title)

    plot.__name__ = plot.__qualname__ = kind
    return plot


pr_curve = _curve_plot(
    "pr_curve",
    "recall",
    "precision",
    "Precision-Recall Curve",
    lambda tp, fp, positives, _negatives: (tp / positives if positives else 0.0, tp / (tp + fp)),
)
roc_curve = _curve_plot(
    "roc_curve",
    "fpr",
    "tpr",
    "ROC",
    lambda tp, fp, positives, negatives: (
        fp / negatives if negatives else 0.0,
        tp / positives if positives else 0.0,
    ),
    start=(0.0, 0.0),
)
