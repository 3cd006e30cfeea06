package dev.protorad.spark;

import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/** The output table: one row per order, never the note. */
final class BulkSchema {

  static final StructType ALTERNATIVE =
      DataTypes.createStructType(
          new StructField[] {
            DataTypes.createStructField("label_id", DataTypes.StringType, false),
            DataTypes.createStructField("probability", DataTypes.FloatType, false)
          });

  static final StructType OUTPUT =
      DataTypes.createStructType(
          new StructField[] {
            DataTypes.createStructField("order_id", DataTypes.StringType, false),
            DataTypes.createStructField("prediction_id", DataTypes.StringType, true),
            DataTypes.createStructField("label_id", DataTypes.StringType, true),
            DataTypes.createStructField("label_name", DataTypes.StringType, true),
            DataTypes.createStructField("confidence", DataTypes.FloatType, true),
            DataTypes.createStructField(
                "alternatives", DataTypes.createArrayType(ALTERNATIVE, false), true),
            DataTypes.createStructField("needs_review", DataTypes.BooleanType, true),
            DataTypes.createStructField(
                "review_reasons", DataTypes.createArrayType(DataTypes.StringType, false), true),
            DataTypes.createStructField(
                "flags", DataTypes.createArrayType(DataTypes.StringType, false), true),
            DataTypes.createStructField("adapter_version", DataTypes.StringType, true),
            DataTypes.createStructField("audit_event_id", DataTypes.StringType, true),
            DataTypes.createStructField("error", DataTypes.StringType, true),
            DataTypes.createStructField("run_id", DataTypes.StringType, false)
          });

  static final int NEEDS_REVIEW = OUTPUT.fieldIndex("needs_review");
  static final int ERROR = OUTPUT.fieldIndex("error");

  private BulkSchema() {}
}
