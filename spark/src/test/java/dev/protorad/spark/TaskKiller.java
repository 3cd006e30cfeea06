package dev.protorad.spark;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskStart;
import org.apache.spark.sql.SparkSession;

/**
 * Kills the first attempt of every task of the stages that write Parquet once it has run for {@code
 * after}, as a lost executor would; Spark reschedules each killed task ({@code
 * SparkContext.killTaskAttempt}). Tasks done sooner (the stages that only read and shuffle the
 * input) are left alone.
 */
final class TaskKiller extends SparkListener {

  private final SparkSession spark;
  private final Duration after;
  private final AtomicInteger killed = new AtomicInteger();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();

  TaskKiller(SparkSession spark, Duration after) {
    this.spark = spark;
    this.after = after;
  }

  @Override
  public void onTaskStart(SparkListenerTaskStart e) {
    if (e.taskInfo().attemptNumber() == 0) {
      long task = e.taskInfo().taskId();
      var unused =
          timer.schedule(
              () -> {
                if (spark.sparkContext().killTaskAttempt(task, true, "executor lost (simulated)")) {
                  killed.incrementAndGet();
                }
              },
              after.toMillis(),
              TimeUnit.MILLISECONDS);
    }
  }

  int killed() {
    return killed.get();
  }
}
