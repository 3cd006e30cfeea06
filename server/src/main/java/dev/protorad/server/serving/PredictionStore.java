package dev.protorad.server.serving;

import static java.util.Objects.requireNonNull;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Predictions and their reviews in a JDBC database: an embedded H2 file by default, PostgreSQL when
 * configured; one schema for both. Holds no note text. A prediction is reviewed at most once.
 *
 * <p>One connection per call keeps the class simple; the embedded database makes that cheap, and a
 * pooled {@code DataSource} can replace {@link #connect()} for PostgreSQL.
 */
public final class PredictionStore {

  private static final String SCHEMA =
      """
      CREATE TABLE IF NOT EXISTS predictions (
        prediction_id VARCHAR(64) PRIMARY KEY,
        order_id VARCHAR(128) NOT NULL,
        patient_ref VARCHAR(128) NOT NULL,
        label_id VARCHAR(128) NOT NULL,
        confidence DOUBLE PRECISION NOT NULL,
        adapter_version VARCHAR(160) NOT NULL,
        needs_review BOOLEAN NOT NULL,
        flags VARCHAR(1024) NOT NULL,
        created_at TIMESTAMP NOT NULL,
        audit_event_id VARCHAR(160) NOT NULL,
        review_accepted BOOLEAN,
        review_label_id VARCHAR(128),
        reviewer VARCHAR(256),
        reviewed_at TIMESTAMP,
        review_comment VARCHAR(1000)
      )""";

  private final String jdbcUrl;
  private final String user;
  private final String password;

  private PredictionStore(String jdbcUrl, String user, String password) {
    this.jdbcUrl = jdbcUrl;
    this.user = user;
    this.password = password;
  }

  /** Opens (and creates if needed) the store at {@code jdbcUrl}. */
  public static PredictionStore open(String jdbcUrl, String user, String password) {
    requireNonNull(jdbcUrl, "jdbcUrl");
    PredictionStore store = new PredictionStore(jdbcUrl, user, password);
    store.execute(SCHEMA);
    return store;
  }

  /** Stores a new, unreviewed prediction. */
  public void insert(StoredPrediction p) {
    String sql =
        "INSERT INTO predictions (prediction_id, order_id, patient_ref, label_id, confidence,"
            + " adapter_version, needs_review, flags, created_at, audit_event_id)"
            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    try (Connection c = connect();
        PreparedStatement s = c.prepareStatement(sql)) {
      s.setString(1, p.predictionId());
      s.setString(2, p.orderId());
      s.setString(3, p.patientRef());
      s.setString(4, p.labelId());
      s.setDouble(5, p.confidence());
      s.setString(6, p.adapterVersion());
      s.setBoolean(7, p.needsReview());
      s.setString(8, String.join(",", p.flags()));
      s.setTimestamp(9, Timestamp.from(p.createdAt()));
      s.setString(10, p.auditEventId());
      s.executeUpdate();
    } catch (SQLException e) {
      throw new PredictionStoreException("cannot store prediction", e);
    }
  }

  /** The prediction with this id, if any. */
  public Optional<StoredPrediction> find(String predictionId) {
    try (Connection c = connect();
        PreparedStatement s =
            c.prepareStatement("SELECT * FROM predictions WHERE prediction_id = ?")) {
      s.setString(1, predictionId);
      try (ResultSet r = s.executeQuery()) {
        return r.next() ? Optional.of(read(r)) : Optional.empty();
      }
    } catch (SQLException e) {
      throw new PredictionStoreException("cannot read prediction", e);
    }
  }

  /**
   * Records the review of an unreviewed prediction.
   *
   * @return false when the prediction does not exist or is already reviewed
   */
  public boolean review(String predictionId, StoredPrediction.Review review) {
    String sql =
        "UPDATE predictions SET review_accepted = ?, review_label_id = ?, reviewer = ?,"
            + " reviewed_at = ?, review_comment = ? WHERE prediction_id = ? AND reviewer IS NULL";
    try (Connection c = connect();
        PreparedStatement s = c.prepareStatement(sql)) {
      s.setBoolean(1, review.accepted());
      s.setString(2, review.correctedLabelId());
      s.setString(3, review.reviewer());
      s.setTimestamp(4, Timestamp.from(review.reviewedAt()));
      s.setString(5, review.comment());
      s.setString(6, predictionId);
      return s.executeUpdate() == 1;
    } catch (SQLException e) {
      throw new PredictionStoreException("cannot store review", e);
    }
  }

  /** Reviewed predictions whose label was corrected, oldest first. */
  public List<StoredPrediction> corrections() {
    String sql =
        "SELECT * FROM predictions WHERE review_accepted = FALSE ORDER BY reviewed_at, prediction_id";
    List<StoredPrediction> out = new ArrayList<>();
    try (Connection c = connect();
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery(sql)) {
      while (r.next()) {
        out.add(read(r));
      }
      return out;
    } catch (SQLException e) {
      throw new PredictionStoreException("cannot read corrections", e);
    }
  }

  private static StoredPrediction read(ResultSet r) throws SQLException {
    String flags = r.getString("flags");
    return new StoredPrediction(
        r.getString("prediction_id"),
        r.getString("order_id"),
        r.getString("patient_ref"),
        r.getString("label_id"),
        r.getDouble("confidence"),
        r.getString("adapter_version"),
        r.getBoolean("needs_review"),
        flags.isEmpty() ? List.of() : Arrays.asList(flags.split(",")),
        r.getTimestamp("created_at").toInstant(),
        r.getString("audit_event_id"),
        readReview(r));
  }

  private static Optional<StoredPrediction.Review> readReview(ResultSet r) throws SQLException {
    String reviewer = r.getString("reviewer");
    if (reviewer == null) {
      return Optional.empty();
    }
    Instant at = r.getTimestamp("reviewed_at").toInstant();
    return Optional.of(
        new StoredPrediction.Review(
            r.getBoolean("review_accepted"),
            r.getString("review_label_id"),
            reviewer,
            at,
            r.getString("review_comment")));
  }

  private void execute(String sql) {
    try (Connection c = connect();
        Statement s = c.createStatement()) {
      s.execute(sql);
    } catch (SQLException e) {
      throw new PredictionStoreException("cannot prepare the prediction schema", e);
    }
  }

  private Connection connect() throws SQLException {
    return DriverManager.getConnection(jdbcUrl, user, password);
  }

  /** The database failed; the message names the operation, never data. */
  public static final class PredictionStoreException extends RuntimeException {
    PredictionStoreException(String message, SQLException cause) {
      super(message + " (SQL state " + cause.getSQLState() + ")", cause);
    }
  }
}
