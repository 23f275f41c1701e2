"""`--engine spark`: the same compiled plan on Apache Spark, for registries that outgrow one machine.

Parquet and CSV are read by Spark itself (distributed); JSON lines and FHIR bulk folders are read by the
driver with the same readers as the embedded engines, then handed to Spark. Row numbers follow the input
order (per-partition offsets, no single-partition window). Rows the column-wise checks leave to Python are
few by construction and are validated on the driver, exactly as in the embedded engines. Results are
written by Spark to OUTDIR/results.parquet, a folder of part files (read it with any Parquet reader as
one dataset); errors, explanations and the report are written by the driver.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pyarrow as pa

from rectoplan.cohort.columns import BY_NAME
from rectoplan.cohort.readers import NO_ID, ROW, InputError, check_columns, classify, read_cohort
from rectoplan.cohort.run import RESULT_SCHEMA, Clock, CohortResult, conform, evaluate_python, validate_rows
from rectoplan.compile import ir
from rectoplan.compile.case_columns import RawType
from rectoplan.compile.plan import RESULT_COLUMNS, compile_plan, input_stages
from rectoplan.compile.spark import quote, staged_query
from rectoplan.core.knowledge import KnowledgeBase

PLAN_CONF = {
    # The plans are wide (hundreds of CASE expressions per row): Catalyst's constraint propagation, project
    # collapsing and Janino code generation spend far longer on them than they save, so they are off (the
    # expressions are interpreted, which measured 3-4 times faster end to end here). RECTOPLAN_SPARK_CONF
    # ("key=value,key=value") overrides any of these.
    "spark.sql.constraintPropagation.enabled": "false",
    "spark.sql.optimizer.excludedRules": "org.apache.spark.sql.catalyst.optimizer.CollapseProject",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
}


# Spark's logging when stderr is not a terminal (a log file, a scheduler, a pipe): errors only, no progress
# bars. Spark's default there (WARN lines, "[Stage 3:=====>  (2 + 2) / 8]" redrawn with carriage returns)
# buries the one line rectoplan prints and fills job logs; on a terminal the defaults stay (the bar shows
# progress). The root level stays WARN, the level Spark's shell logging expects (otherwise it announces a
# "default log level" on stderr); the console's filter lets only errors through.
QUIET_LOG4J2 = """\
status = error
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = stderr
appender.stderr.type = Console
appender.stderr.name = stderr
appender.stderr.target = SYSTEM_ERR
appender.stderr.filter.threshold.type = ThresholdFilter
appender.stderr.filter.threshold.level = error
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
"""


def quiet_conf(terminal: bool, log4j_file: Path) -> dict[str, str]:
    """The Spark settings that keep progress bars and WARN lines off a stderr that is not a terminal.

    The log configuration must reach the driver JVM at its start (the WARN lines come before any Python
    code could lower the level), hence a file named by a Java option; PySpark passes it to spark-submit."""
    if terminal:
        return {}
    return {
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={log4j_file.as_uri()}",
    }


def spark_session(master: str | None = None) -> Any:
    """A SparkSession: SPARK_MASTER (or local[*]), loopback by default, no UI, the plan settings above,
    and quiet logging when stderr is not a terminal (`quiet_conf`)."""
    import sys
    import tempfile

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    with tempfile.TemporaryDirectory(prefix="rectoplan-spark-") as tmp:  # read by the JVM at its start only
        log4j_file = Path(tmp) / "log4j2.properties"
        log4j_file.write_text(QUIET_LOG4J2, encoding="utf-8")
        conf = dict(PLAN_CONF) | quiet_conf(sys.stderr.isatty(), log4j_file)
        for item in filter(None, os.environ.get("RECTOPLAN_SPARK_CONF", "").split(",")):
            key, _, value = item.partition("=")
            conf[key.strip()] = value.strip()
        builder = SparkSession.builder.master(master or os.environ.get("SPARK_MASTER", "local[*]"))
        builder = builder.appName("rectoplan-cohort").config("spark.ui.enabled", "false")
        builder = builder.config("spark.sql.shuffle.partitions", "8")
        for key, value in conf.items():
            builder = builder.config(key, value)
        session = builder.getOrCreate()
        if not sys.stderr.isatty():
            session.sparkContext.setLogLevel("ERROR")  # also when the session already existed
        return session


def spark_raw_type(dtype: Any) -> RawType:
    """A Spark column type in the terms of the normalization stage."""
    from pyspark.sql import types as T

    if isinstance(dtype, T.NullType):
        return RawType("null")
    if isinstance(dtype, T.StringType):
        return RawType("text")
    if isinstance(dtype, (T.ByteType, T.ShortType, T.IntegerType, T.LongType)):
        return RawType("int")
    if isinstance(dtype, T.BooleanType):
        return RawType("bool")
    if isinstance(dtype, T.ArrayType):
        inner = dtype.elementType
        if isinstance(inner, (T.StringType, T.NullType)):
            return RawType("text_list")
        if isinstance(inner, T.StructType):
            names = tuple(f.name for f in inner.fields)
            agents = inner["agents"].dataType if "agents" in names else None
            if agents is not None and spark_raw_type(agents).kind != "text_list":
                return RawType("other")
            if "stopped_for" in names and spark_raw_type(inner["stopped_for"].dataType).kind not in ("text", "null"):
                return RawType("other")
            return RawType("lines", names)
    return RawType("other")


def _with_row_numbers(df: Any) -> Any:
    """1-based input order: a count per partition, offsets on the driver, no global sort."""
    from pyspark.sql import functions as F

    df = df.withColumn("_pid", F.spark_partition_id()).withColumn("_mid", F.monotonically_increasing_id())
    counts = dict(df.groupBy("_pid").count().collect())
    offsets, total = {}, 0
    for pid in sorted(counts):
        offsets[pid] = total
        total += counts[pid]
    mapping = F.create_map(*(x for pid, off in offsets.items() for x in (F.lit(pid), F.lit(off))))
    first = F.col("_mid") - F.shiftleft(F.col("_pid").cast("long"), 33)
    return df.withColumn(ROW, (mapping[F.col("_pid")] + first + 1).cast("long")).drop("_pid", "_mid"), total


def _read(spark: Any, path: Path, kb: KnowledgeBase, ignore_unknown: bool) -> tuple[Any, list[Any], int, str]:
    suffix = path.suffix.lower()
    # Parquet is read by the executors. CSV is read on the driver, like JSON lines: Spark's CSV reader pads
    # or truncates a row with a wrong number of fields without a word, where rectoplan makes it an error row.
    if path.is_file() and suffix in (".parquet", ".pq"):
        df, fmt = spark.read.parquet(str(path)), "parquet"
        problems = check_columns(df.columns, ignore_unknown)
        if "id" not in df.columns:
            problems.append(NO_ID)
        if problems:
            raise InputError(problems)
        df = df.select([c for c in df.columns if c in BY_NAME])
        df, total = _with_row_numbers(df)
        return df, [], total, fmt
    cohort = read_cohort(path, kb, ignore_unknown)  # CSV, JSON lines, FHIR folders: read on the driver
    return spark.createDataFrame(cohort.table), cohort.errors, cohort.records, cohort.format


REFERENCE_LIMIT = 20_000  # valid rows the plan cannot read exactly: per-case engine on the driver up to this


def _stages(df: Any, kb: KnowledgeBase) -> tuple[list[Any], list[Any]]:
    raw = {f.name: spark_raw_type(f.dataType) for f in df.schema.fields if f.name in BY_NAME}
    lists, scalars = input_stages(kb, raw)
    return [list(lists), list(scalars)], [list(st) for st in compile_plan(kb).stages]


def _results(spark: Any, df: Any, kb: KnowledgeBase, view: str) -> tuple[Any, Any]:
    """(rows with `_clean` and the raw columns, result rows of the clean ones), as two planned queries:
    the input checks first (a small plan, cached), then the rules over the clean rows only."""
    inputs, rules = _stages(df, kb)
    raw_cols = [c for c in df.columns]
    df.createOrReplaceTempView(view)
    keep = [ROW, "n_id", *RESULT_COLUMNS]
    needed = [c for c in ir.inputs_of(rules, keep) if c not in raw_cols]
    flagged = spark.sql(staged_query(view, inputs, [*raw_cols, "_clean", *needed]))
    flagged = flagged.cache()
    flagged.filter(F_col("_clean")).createOrReplaceTempView(view + "_clean")
    results = spark.sql(staged_query(view + "_clean", rules, keep)).selectExpr(
        f"{quote(ROW)} AS row", "n_id AS id", *(quote(c) for c in RESULT_COLUMNS)
    )
    return flagged, results


def _by_reference(canonical: pa.Table, kb: KnowledgeBase) -> pa.Table:
    """Result rows of the per-case engine for canonical rows, typed as Spark takes them (no dictionaries)."""
    by_reference, _ = evaluate_python(canonical, kb)
    return by_reference.cast(
        pa.schema([(f.name, pa.string() if pa.types.is_dictionary(f.type) else f.type) for f in RESULT_SCHEMA])
    )


def F_col(name: str) -> Any:
    from pyspark.sql import functions as F

    return F.coalesce(F.col(name), F.lit(False))


def run_spark(
    path: Path, kb: KnowledgeBase, clock: Clock, ignore_unknown: bool, spark: Any = None, outdir: Path | None = None
) -> CohortResult:
    """Evaluate with Spark; write OUTDIR/results.parquet as a Spark dataset (see the module docstring)."""
    spark = spark or spark_session()
    with clock.phase("read input (Spark)", 0.0):
        df, errors, records, fmt = _read(spark, path, kb, ignore_unknown)
    with clock.phase("check rows (Spark)", 0.1):
        flagged, good = _results(spark, df, kb, "rectoplan_input")
        suspects = flagged.filter(~F_col("_clean")).select(*df.columns).toArrow()
    extra_errors: list[Any] = []
    if suspects.num_rows:
        with clock.phase("validate rows the column-wise checks left to Python", 0.3):
            canonical, extra_errors = validate_rows(suspects, kb)
            if 0 < canonical.num_rows <= REFERENCE_LIMIT:
                good = good.unionByName(spark.createDataFrame(_by_reference(canonical, kb)))
            elif canonical.num_rows:
                flagged_again, again = _results(spark, spark.createDataFrame(canonical), kb, "rectoplan_canonical")
                good = good.unionByName(again)
                # valid rows the plan still cannot read exactly (a line's progressed_on): the per-case engine
                rest = flagged_again.filter(~F_col("_clean")).select(*canonical.column_names).toArrow()
                if rest.num_rows:
                    good = good.unionByName(spark.createDataFrame(_by_reference(rest, kb)))
    with clock.phase("evaluate rules and write results (Spark)", 0.5):
        good = good.orderBy("row")
        if outdir is not None:
            outdir.mkdir(parents=True, exist_ok=True)
            good.write.mode("overwrite").parquet(str(outdir / "results.parquet"))
            stored = spark.read.parquet(str(outdir / "results.parquet"))
            table = None
        else:
            table = conform(good.toArrow())
            stored = spark.createDataFrame(
                table.cast(
                    pa.schema(
                        [(f.name, pa.string() if pa.types.is_dictionary(f.type) else f.type) for f in RESULT_SCHEMA]
                    )
                )
            )
        counts = {
            name: [(r[0], r[1]) for r in stored.groupBy(name).count().collect()]
            for name in ("intent", "options", "excluded", "held", "exclusions", "holds", "tests_needed", "cautions")
        }
        evaluated_rows = stored.count() if table is None else table.num_rows
    flagged.unpersist()
    all_errors = sorted([*errors, *extra_errors], key=lambda e: e.row)
    result = CohortResult(
        kb, "spark", fmt, records, table, all_errors, clock.timings, [], str(path), evaluated_rows, counts
    )
    result.check_counts()
    return result


__all__ = ["classify", "run_spark", "spark_session"]
