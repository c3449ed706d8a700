"""The evaluation report: what a model gets right and wrong on the test split, in numbers.

`evaluation_report` turns a model's test outputs into a JSON-able dict, the same for
`archbuilder evaluate` and the end of `train`:

- classifiers: accuracy, precision / recall / F1 / support per class with their macro
  and support-weighted averages (as scikit-learn's `classification_report` computes them,
  0 where a class is never predicted), the confusion matrix (rows: true class, columns:
  predicted), and top-3 / top-5 accuracy when there are more than 5 classes;
- regression: MAE, RMSE and R² (per output and averaged over outputs, as scikit-learn's
  `r2_score`: 1 for a perfect fit of a constant target, else 0 there);
- autoencoders: the reconstruction error of each sample (mean squared error over its
  values) summarized, and code sparsity: the fraction of code values with |h| < 1e-3,
  the active code units per sample and the units never active on the test split.

Each metrics.json figure (`test_loss`, `test_<metric>`) is kept at the top level.
"""

import numpy as np

__all__ = ["CODE_THRESHOLD", "TOP_K", "evaluation_report", "classification_section", "regression_section",
           "reconstruction_section", "report_text"]

CODE_THRESHOLD = 1e-3  # a code value below this (in absolute value) counts as "off"
TOP_K = (3, 5)  # reported when the classes outnumber 5


def _ratio(a, b):
    return float(a / b) if b else 0.0


def _class_scores(tp, predicted, support):
    precision, recall = _ratio(tp, predicted), _ratio(tp, support)
    f1 = _ratio(2 * precision * recall, precision + recall)
    return {"precision": precision, "recall": recall, "f1": f1, "support": int(support)}


def _averages(rows):
    support = np.array([r["support"] for r in rows], np.float64)
    total = support.sum()
    averages = {}
    for name, weights in (("macro_avg", np.ones_like(support) / max(len(rows), 1)),
                          ("weighted_avg", support / total if total else support)):
        averages[name] = {key: float(sum(w * r[key] for w, r in zip(weights, rows)))
                          for key in ("precision", "recall", "f1")}
        averages[name]["support"] = int(total)
    return averages


def _as_scores(outputs):
    """`(N, classes)` probabilities; one sigmoid unit becomes `[1 - p, p]`; steps become samples."""
    scores = np.asarray(outputs, np.float64)
    if scores.ndim > 2:
        scores = scores.reshape(-1, scores.shape[-1])
    scores = scores.reshape(len(scores), -1)
    return np.concatenate([1.0 - scores, scores], axis=1) if scores.shape[1] == 1 else scores


def classification_section(outputs, y, class_names=None, one_hot=False):
    """Accuracy, per-class precision / recall / F1 / support, the confusion matrix and top-k accuracy.

    Args:
        outputs: the model's class probabilities, `(N, classes)`, `(N, 1)` for one sigmoid
            unit, or `(N, steps, classes)` (each step counts as a sample).
        y: the labels: class ids, one-hot rows, or multi-hot rows (independent sigmoids).
        class_names: the names of the classes (default `"0"`, `"1"`, ...).
        one_hot: labels are one-hot rows.

    Returns:
        A dict (see the module docstring).
    """
    scores = _as_scores(outputs)
    n = scores.shape[1]
    names = list(class_names) if class_names and len(class_names) == n else [str(i) for i in range(n)]
    y = np.asarray(y)
    multi_hot = y.ndim >= 2 and y.shape[-1] == n and n > 1 and not one_hot and np.asarray(outputs).ndim == y.ndim
    if multi_hot:  # independent sigmoids: a decision per class at 0.5
        truth = y.reshape(-1, n).astype(bool)
        decided = scores >= 0.5
        rows = [_class_scores((truth[:, j] & decided[:, j]).sum(), decided[:, j].sum(), truth[:, j].sum())
                for j in range(n)]
        return {"classes": names, "multi_label": True, "accuracy": float(np.mean((truth == decided).all(axis=1))),
                "per_class": [{"class": c, **r} for c, r in zip(names, rows)], **_averages(rows),
                "confusion_matrix": None, "top_k_accuracy": None}
    truth = np.argmax(y.reshape(-1, n), axis=1) if one_hot else y.reshape(-1).astype(np.int64)
    predicted = np.argmax(scores, axis=1)
    confusion = np.zeros((n, n), np.int64)
    np.add.at(confusion, (truth, predicted), 1)
    rows = [_class_scores(confusion[j, j], confusion[:, j].sum(), confusion[j].sum()) for j in range(n)]
    top_k = None
    if n > 5:
        # A class counts as in the top k when fewer than k classes score strictly higher.
        higher = (scores > scores[np.arange(len(truth)), truth][:, None]).sum(axis=1)
        top_k = {str(k): float(np.mean(higher < k)) for k in TOP_K if k < n}
    return {"classes": names, "multi_label": False, "accuracy": _ratio(np.trace(confusion), confusion.sum()),
            "per_class": [{"class": c, **r} for c, r in zip(names, rows)], **_averages(rows),
            "confusion_matrix": confusion.tolist(), "top_k_accuracy": top_k}


def _r2(truth, predicted):
    residual = float(np.sum((truth - predicted) ** 2))
    total = float(np.sum((truth - truth.mean()) ** 2))
    if total == 0.0:
        return 1.0 if residual == 0.0 else 0.0
    return 1.0 - residual / total


def regression_section(outputs, y):
    """MAE, RMSE and R² of each output value and their mean over outputs."""
    predicted = np.asarray(outputs, np.float64)
    truth = np.asarray(y, np.float64).reshape(predicted.shape)
    predicted, truth = predicted.reshape(len(predicted), -1), truth.reshape(len(truth), -1)
    per = [{"mae": float(np.mean(np.abs(truth[:, j] - predicted[:, j]))),
            "rmse": float(np.sqrt(np.mean((truth[:, j] - predicted[:, j]) ** 2))),
            "r2": _r2(truth[:, j], predicted[:, j])} for j in range(truth.shape[1])]
    section = {key: float(np.mean([p[key] for p in per])) for key in ("mae", "rmse", "r2")}
    section["outputs"] = len(per)
    section["per_output"] = per if len(per) > 1 else None
    return section


def _summary(values):
    values = np.asarray(values, np.float64)
    return {"mean": float(values.mean()), "std": float(values.std()), "min": float(values.min()),
            "median": float(np.median(values)), "p95": float(np.percentile(values, 95)), "max": float(values.max())}


def reconstruction_section(reconstruction, x, codes=None):
    """The per-sample reconstruction error, summarized, and the code's sparsity.

    Args:
        reconstruction: the model's reconstructions.
        x: what it reconstructs (the preprocessed inputs).
        codes: the encoder's codes for the same samples, or None.
    """
    x = np.asarray(x, np.float64)
    reconstruction = np.asarray(reconstruction, np.float64).reshape(x.shape)
    errors = ((reconstruction - x) ** 2).reshape(len(x), -1).mean(axis=1)
    section = {"error": "mean squared error of each sample over its values", "per_sample": _summary(errors),
               "worst_samples": [int(i) for i in np.argsort(-errors, kind="stable")[:5]], "code": None}
    if codes is not None:
        codes = np.abs(np.asarray(codes, np.float64)).reshape(len(x), -1)
        active = codes >= CODE_THRESHOLD
        section["code"] = {"units": int(codes.shape[1]), "threshold": CODE_THRESHOLD,
                           "sparsity": float(1.0 - active.mean()), "mean_abs": float(codes.mean()),
                           "active_units_per_sample": float(active.sum(axis=1).mean()),
                           "dead_units": int((~active.any(axis=0)).sum())}
    return section


def evaluation_report(task, outputs, y=None, x=None, *, class_names=None, one_hot=False, codes=None,
                      metrics=None):
    """The evaluation report of a model's outputs on the test split.

    Args:
        task: `classification`, `regression` or `reconstruction` (the contract's task).
        outputs: the model's outputs: an array, or `{"reconstruction": ..., "head": ...}`.
        y: the test labels (None for an autoencoder without them).
        x: the preprocessed test inputs (what a reconstruction is compared with).
        class_names: the classifier's class names.
        one_hot: the labels are one-hot rows.
        codes: an autoencoder's codes of the test inputs.
        metrics: Keras's test metrics (`test_loss`, `test_<metric>`), kept at the top level.

    Returns:
        `{**metrics, "task", "samples", "classification" | "regression" | "reconstruction": ...}`.
    """
    report = dict(metrics or {})
    labelled = outputs.get("head") if isinstance(outputs, dict) else (None if task == "reconstruction" else outputs)
    reconstruction = outputs.get("reconstruction") if isinstance(outputs, dict) else (
        outputs if task == "reconstruction" else None)
    report["task"] = task
    report["samples"] = int(len(x if x is not None else labelled))
    if reconstruction is not None and x is not None:
        report["reconstruction"] = reconstruction_section(reconstruction, x, codes)
    if labelled is not None and y is not None:
        if task == "classification":
            report["classification"] = classification_section(labelled, y, class_names, one_hot)
        else:
            report["regression"] = regression_section(labelled, y)
    return report


# ---------------------------------------------------------------- the report as text


def _table(header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    lines = []
    for row in [header] + rows:
        cells = [str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
    return lines


def _classification_text(section):
    rows = [[r["class"], f"{r['precision']:.4f}", f"{r['recall']:.4f}", f"{r['f1']:.4f}", r["support"]]
            for r in section["per_class"]]
    total = section["macro_avg"]["support"]
    rows.append(["accuracy", "", "", f"{section['accuracy']:.4f}", total])
    for key in ("macro_avg", "weighted_avg"):
        a = section[key]
        rows.append([key.replace("_", " "), f"{a['precision']:.4f}", f"{a['recall']:.4f}", f"{a['f1']:.4f}", total])
    lines = _table(["", "precision", "recall", "f1-score", "support"], rows)
    if section["top_k_accuracy"]:
        lines.append("  ".join(f"top-{k} accuracy {v:.4f}" for k, v in section["top_k_accuracy"].items()))
    matrix, names = section["confusion_matrix"], section["classes"]
    if matrix is not None and len(names) <= 20:
        lines += ["", "Confusion matrix (rows: true class, columns: predicted class):"]
        lines += _table(["true \\ predicted"] + names, [[n] + row for n, row in zip(names, matrix)])
    elif matrix is not None:
        lines.append(f"Confusion matrix: {len(names)} classes, see confusion.csv")
    return lines


def report_text(report, title):
    """The report as the text `archbuilder evaluate` prints."""
    lines = [title]
    figures = [f"{k} {v:.6g}" for k, v in report.items() if k.startswith("test_") and isinstance(v, float)]
    if figures:
        lines.append("  ".join(figures))
    if "classification" in report:
        lines += [""] + _classification_text(report["classification"])
    if "regression" in report:
        r = report["regression"]
        lines += ["", f"MAE {r['mae']:.6g}  RMSE {r['rmse']:.6g}  R2 {r['r2']:.6g}"
                  + (f"  (mean over {r['outputs']} outputs)" if r["outputs"] > 1 else "")]
    if "reconstruction" in report:
        r = report["reconstruction"]
        s = r["per_sample"]
        lines += ["", f"Reconstruction error per sample (MSE): mean {s['mean']:.6g}, median {s['median']:.6g}, "
                      f"p95 {s['p95']:.6g}, max {s['max']:.6g}"]
        code = r["code"]
        if code:
            lines.append(f"Code: {code['units']} units, sparsity {code['sparsity']:.2%} of values |h| < "
                         f"{code['threshold']:g}, {code['active_units_per_sample']:.2f} active units per sample, "
                         f"{code['dead_units']} never active")
    return "\n".join(lines) + "\n"
