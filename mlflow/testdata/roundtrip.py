"""Reads an MLflow tracking store back with MLflow's own client and prints
what it holds as JSON: per experiment (grid), every run with its status,
tags, params and the full history of every metric. mlflow/export_test.go
compares it with the results database the store was exported from.

    python roundtrip.py sqlite:///path/to/mlflow.db
"""
import json
import math
import sys

import mlflow
from mlflow import MlflowClient


def number(v):
    """JSON has no NaN or infinity: those travel as strings."""
    return v if math.isfinite(v) else str(v)


def main(uri):
    mlflow.set_tracking_uri(uri)
    client = MlflowClient()
    out = {"version": mlflow.__version__, "experiments": {}}
    for exp in client.search_experiments():
        runs = mlflow.search_runs(experiment_ids=[exp.experiment_id], output_format="list")
        listed = []
        for run in runs:
            metrics = {}
            for key in run.data.metrics:
                history = client.get_metric_history(run.info.run_id, key)
                metrics[key] = sorted([m.step, number(m.value)] for m in history)
            listed.append({
                "run_id": run.info.run_id,
                "name": run.info.run_name,
                "status": run.info.status,
                "tags": {k: v for k, v in run.data.tags.items()},
                "params": run.data.params,
                "metrics": metrics,
            })
        frame = mlflow.search_runs(experiment_ids=[exp.experiment_id])
        out["experiments"][exp.name] = {"runs": listed, "frame_rows": len(frame)}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
