package dev.protorad.console;

import dev.protorad.api.v1.CatalogProtocol;
import dev.protorad.api.v1.GetPredictionNoteRequest;
import dev.protorad.api.v1.GetPredictionRequest;
import dev.protorad.api.v1.ListPredictionsRequest;
import dev.protorad.api.v1.ListPredictionsResponse;
import dev.protorad.api.v1.Prediction;
import dev.protorad.api.v1.ReviewDecision;
import dev.protorad.api.v1.ReviewPredictionRequest;
import dev.protorad.api.v1.ScoredLabel;
import dev.protorad.client.ProtoradClient;
import dev.protorad.client.ProtoradException;
import io.grpc.Status;
import io.javalin.http.Context;
import io.javalin.http.HttpStatus;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The radiologist's review worklist: predictions that need review and have none, oldest first; one
 * prediction with its note, top labels, rule flags and review reasons; accept, or correct with a
 * label from the catalog. Keys: {@code a} accepts, {@code c} goes to the correction picker, {@code
 * n} opens the next item.
 */
final class ReviewPages {

  private static final Pattern ID = Pattern.compile("[A-Za-z0-9-]{1,64}");

  private final ConsoleServer console;

  ReviewPages(ConsoleServer console) {
    this.console = console;
  }

  void worklist(Context ctx) {
    Optional<ConsoleServer.Caller> caller = console.caller(ctx);
    if (caller.isEmpty()) {
      return;
    }
    String token = Optional.ofNullable(ctx.queryParam("page")).orElse("");
    ListPredictionsResponse page = worklist(caller.get(), 50, token);
    StringBuilder body = new StringBuilder();
    if (page.getPredictionsCount() == 0) {
      body.append("<p id=\"worklist-empty\">Nothing waits for review.</p>");
    } else {
      body.append(
          Html.table(
              "worklist",
              List.of("Made", "Order", "Label", "Confidence", "Why review", ""),
              page.getPredictionsList().stream().map(ReviewPages::row).toList()));
      if (!page.getNextPageToken().isEmpty()) {
        body.append("<p><a href=\"/review?page=")
            .append(Html.text(page.getNextPageToken()))
            .append("\">Older</a></p>");
      }
    }
    ConsoleServer.page(ctx, HttpStatus.OK, "Review worklist", body.toString(), caller.get());
  }

  private static List<String> row(Prediction p) {
    return List.of(
        time(p.getCreateTime().getSeconds()),
        Html.text(p.getOrderId()),
        Html.text(p.getLabel().getName()),
        percent(p.getConfidence()),
        Html.text(String.join(", ", p.getReviewReasonsList())),
        "<a class=\"open\" href=\"/review/" + Html.text(p.getPredictionId()) + "\">Open</a>");
  }

  void item(Context ctx) {
    Optional<ConsoleServer.Caller> caller = console.caller(ctx);
    if (caller.isEmpty()) {
      return;
    }
    String id = id(ctx);
    var client = caller.get().client();
    Prediction p =
        client
            .getPrediction(GetPredictionRequest.newBuilder().setPredictionId(id).build())
            .getPrediction();
    StringBuilder body = new StringBuilder(summary(p));
    body.append("<h2>Note</h2>").append(note(client, id)).append("<h2>Labels</h2>");
    body.append(labels(p));
    if (p.hasReview()) {
      body.append("<p id=\"reviewed\">Reviewed by ")
          .append(Html.text(p.getReview().getReviewer()))
          .append(".</p>");
    } else {
      body.append(decisionForms(caller.get(), p));
    }
    ConsoleServer.page(
        ctx, HttpStatus.OK, "Review " + p.getOrderId(), body.toString(), caller.get());
  }

  /** The order, when and by which version it was made, why it waits, the rule flags. */
  private static String summary(Prediction p) {
    return "<dl><dt>Order</dt><dd id=\"order\">"
        + Html.text(p.getOrderId())
        + "</dd><dt>Made</dt><dd>"
        + time(p.getCreateTime().getSeconds())
        + " by "
        + Html.text(p.getAdapterVersion())
        + "</dd><dt>Why review</dt><dd id=\"reasons\">"
        + Html.text(String.join(", ", p.getReviewReasonsList()))
        + "</dd><dt>Rule flags</dt><dd id=\"flags\">"
        + Html.text(p.getFlagsList().isEmpty() ? "none" : String.join(", ", p.getFlagsList()))
        + "</dd></dl>";
  }

  /** The top labels, most likely first, with their probabilities. */
  private static String labels(Prediction p) {
    return p.getAlternativesList().stream()
        .map(ReviewPages::label)
        .collect(Collectors.joining("", "<ol id=\"labels\">", "</ol>"));
  }

  private static String label(ScoredLabel l) {
    return "<li>"
        + Html.text(l.getLabel().getName())
        + " <span class=\"muted\">"
        + percent(l.getProbability())
        + "</span></li>";
  }

  /** The kept note (each read audited by the API), or why there is none. */
  private static String note(ProtoradClient client, String id) {
    return keptNote(client, id)
        .map(note -> "<pre id=\"note\">" + Html.text(note) + "</pre>")
        .orElse("<p id=\"note\" class=\"muted\">The note was not kept or has expired.</p>");
  }

  /** The kept note; empty when none was kept, it has expired or the API has no note store. */
  private static Optional<String> keptNote(ProtoradClient client, String id) {
    try {
      String note =
          client
              .getPredictionNote(GetPredictionNoteRequest.newBuilder().setPredictionId(id).build())
              .getNote();
      return note.isEmpty() ? Optional.empty() : Optional.of(note);
    } catch (ProtoradException e) {
      if (e.code() != Status.Code.NOT_FOUND && e.code() != Status.Code.FAILED_PRECONDITION) {
        throw e;
      }
      return Optional.empty();
    }
  }

  private String decisionForms(ConsoleServer.Caller caller, Prediction p) {
    String action = "/review/" + Html.text(p.getPredictionId());
    StringBuilder out = new StringBuilder();
    out.append("<form method=\"post\" action=\"")
        .append(action)
        .append("\" class=\"decide\">")
        .append(Html.csrf(caller.session()))
        .append("<input type=\"hidden\" name=\"decision\" value=\"accept\">")
        .append("<button type=\"submit\" id=\"accept\" accesskey=\"a\">Accept ")
        .append(Html.text(p.getLabel().getName()))
        .append("</button></form>");
    out.append("<form method=\"post\" action=\"")
        .append(action)
        .append("\" class=\"decide\">")
        .append(Html.csrf(caller.session()))
        .append("<input type=\"hidden\" name=\"decision\" value=\"correct\">")
        .append(
            "<label for=\"label\">Correct to</label> <select name=\"label\" id=\"label\" accesskey=\"c\">");
    for (CatalogProtocol c : caller.client().getCatalog().getProtocolsList()) {
      out.append("<option value=\"")
          .append(Html.text(c.getLabel().getId()))
          .append("\">")
          .append(Html.text(c.getLabel().getName()))
          .append("</option>");
    }
    out.append("</select> <label for=\"comment\">Comment (no patient details)</label> ")
        .append("<input name=\"comment\" id=\"comment\" maxlength=\"1000\">")
        .append(" <button type=\"submit\" id=\"correct\">Correct</button></form>");
    return out.toString();
  }

  void decide(Context ctx) {
    Optional<ConsoleServer.Caller> caller = console.caller(ctx);
    if (caller.isEmpty()) {
      return;
    }
    String decision = Optional.ofNullable(ctx.formParam("decision")).orElse("");
    ReviewPredictionRequest.Builder review =
        ReviewPredictionRequest.newBuilder()
            .setPredictionId(id(ctx))
            .setComment(Optional.ofNullable(ctx.formParam("comment")).orElse(""));
    switch (decision) {
      case "accept" -> review.setDecision(ReviewDecision.REVIEW_DECISION_ACCEPT);
      case "correct" ->
          review
              .setDecision(ReviewDecision.REVIEW_DECISION_CORRECT)
              .setCorrectedLabelId(Optional.ofNullable(ctx.formParam("label")).orElse(""));
      default -> throw new ConsoleServer.BadRequest("decision: accept or correct");
    }
    caller.get().client().reviewPrediction(review.build());
    ListPredictionsResponse next = worklist(caller.get(), 1, "");
    ctx.redirect(
        next.getPredictionsCount() == 0
            ? "/review"
            : "/review/" + next.getPredictions(0).getPredictionId());
  }

  /** A page of the worklist: predictions that need review and have none, oldest first. */
  private static ListPredictionsResponse worklist(
      ConsoleServer.Caller caller, int size, String token) {
    return caller
        .client()
        .listPredictions(
            ListPredictionsRequest.newBuilder()
                .setNeedsReview(true)
                .setReviewed(false)
                .setPageSize(size)
                .setPageToken(token)
                .build());
  }

  private static String id(Context ctx) {
    String id = ctx.pathParam("id");
    if (!ID.matcher(id).matches()) {
      throw new ConsoleServer.BadRequest("not a prediction id");
    }
    return id;
  }

  static String time(long epochSeconds) {
    return Html.text(
        Instant.ofEpochSecond(epochSeconds).toString().replace("T", " ").replace("Z", " UTC"));
  }

  static String percent(float p) {
    return String.format(Locale.ROOT, "%.0f%%", p * 100);
  }
}
