"""Prints the tracking database that the installed MLflow creates, as SQL:
every table and index, then the rows MLflow puts in a fresh file (its schema
revision and default workspace; the Default experiment is written by the
exporter). mlflow/schema.sql is this script's output for the MLflow release
named in mlflow.Version; rerun it with a newer MLflow to move to that one:

    python mlflow/testdata/dump-schema.py > mlflow/schema.sql
"""
import os
import sqlite3
import sys
import tempfile

import mlflow

with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "mlflow.db")
    mlflow.MlflowClient(tracking_uri="sqlite:///" + path).search_experiments()
    db = sqlite3.connect(path)
    (revision,) = db.execute("SELECT version_num FROM alembic_version").fetchone()
    print(f"-- The tracking database of MLflow {mlflow.__version__} (schema revision {revision}),")
    print("-- as MLflow creates it; written by mlflow/testdata/dump-schema.py.")
    for kind in ("table", "index"):
        for (sql,) in db.execute(
            "SELECT sql FROM sqlite_master WHERE type = ? AND sql IS NOT NULL ORDER BY rowid", (kind,)
        ):
            print(sql + ";")
    for table in ("alembic_version", "workspaces"):
        for line in db.iterdump():
            if line.startswith(f'INSERT INTO "{table}"'):
                print(line)
    sys.stdout.flush()
