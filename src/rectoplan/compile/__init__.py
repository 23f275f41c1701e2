"""The rule language compiled to other back ends (SQL, Polars, Spark, z3); the engine stays the reference."""
