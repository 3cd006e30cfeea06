/**
 * Bulk scoring on Spark: {@link dev.protorad.spark.BulkJob} reads a table of orders, scores each
 * partition through the governed server over the client SDK's {@code AssignProtocols} stream, and
 * writes one Parquet row per order. {@link dev.protorad.spark.BulkCommand} runs it in local mode
 * ({@code protorad bulk}) or under {@code spark-submit}.
 */
@NullMarked
package dev.protorad.spark;

import org.jspecify.annotations.NullMarked;
