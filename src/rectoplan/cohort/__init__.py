"""Cohorts: flat columns, readers, the embedded engines (Polars, DuckDB), Spark, outputs and the report."""
