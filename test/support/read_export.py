"""Reads a feature export's folder as data scientists do, and prints what it read as JSON on stdout.

    read_export.py parquet <folder>   # pd.read_parquet(<folder>) and pyarrow.dataset.dataset(<folder>)
    read_export.py csv <folder>       # pd.read_csv of every part-*.csv.gz in the folder

Instants are printed as microseconds since the epoch (strings), integers as strings, so that the test compares them
exactly with the warehouse. Rows are sorted by the keys given in FABRICA_SORT (comma-separated).
"""

import glob
import json
import os
import sys

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

EPOCH = pd.Timestamp("1970-01-01", tz="UTC")


def canonical_frame(df: pd.DataFrame, instants: list[str], integers: list[str]) -> list[dict]:
    out = pd.DataFrame(index=df.index)
    for name in df.columns:
        col = df[name]
        if name in instants:
            us = (pd.to_datetime(col, utc=True, format="ISO8601") - EPOCH) // pd.Timedelta(microseconds=1)
            out[name] = us.astype("Int64").astype("string")
        elif name in integers:
            out[name] = col.astype("Int64").astype("string")
        else:
            out[name] = col
    out = out.astype(object).where(out.notna(), None)
    return out.to_dict(orient="records")


def canonical_table(table: pa.Table) -> list[dict]:
    columns = {}
    for name, col in zip(table.column_names, table.columns):
        if pa.types.is_timestamp(col.type):
            col = pc.cast(pc.cast(col, pa.timestamp("us", tz="UTC")), pa.int64())
        if pa.types.is_integer(col.type):
            col = pc.cast(col, pa.string())
        columns[name] = col.to_pylist()
    return [dict(zip(columns, values)) for values in zip(*columns.values())]


def main() -> None:
    kind, folder = sys.argv[1], sys.argv[2]
    keys = os.environ["FABRICA_SORT"].split(",")
    if kind == "parquet":
        frame = pd.read_parquet(folder)
        dataset = ds.dataset(folder, format="parquet")
        table = dataset.to_table()
        schema = {f.name: str(f.type) for f in dataset.schema}
        instants = [n for n, t in schema.items() if t.startswith("timestamp")]
        integers = [n for n, t in schema.items() if t.startswith("int")]
        result = {
            "schema": schema,
            "files": sorted(os.path.basename(f) for f in dataset.files),
            "pandas": canonical_frame(frame.sort_values(keys), instants, integers),
            "pyarrow": canonical_table(table.sort_by([(k, "ascending") for k in keys])),
        }
    else:
        files = sorted(glob.glob(os.path.join(folder, "part-*.csv.gz")))
        frame = pd.concat([pd.read_csv(f, keep_default_na=False, na_values=[""]) for f in files], ignore_index=True)
        instants = os.environ.get("FABRICA_INSTANTS", "").split(",")
        integers = os.environ.get("FABRICA_INTEGERS", "").split(",")
        result = {
            "files": [os.path.basename(f) for f in files],
            "pandas": canonical_frame(frame.sort_values(keys), instants, integers),
        }
    json.dump(result, sys.stdout, allow_nan=False)


if __name__ == "__main__":
    main()
