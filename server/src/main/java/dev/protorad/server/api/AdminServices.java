package dev.protorad.server.api;

import dev.protorad.server.adapters.AdapterStore;
import dev.protorad.server.jobs.FineTuneJobs;
import io.grpc.BindableService;
import java.nio.file.Path;
import javax.annotation.Nullable;

/** Builds the {@code TrainingService} and {@code AdapterService} from their components. */
public final class AdminServices {

  private AdminServices() {}

  /**
   * The training service over {@code jobs}.
   *
   * @param datasetRoot the directory {@code dataset_path} requests may read from, or null to accept
   *     inline examples only
   */
  public static BindableService training(FineTuneJobs jobs, @Nullable Path datasetRoot) {
    return new TrainingGrpcService(jobs, datasetRoot);
  }

  /** The adapter service over {@code store}. */
  public static BindableService adapters(AdapterStore store) {
    return new AdapterGrpcService(store);
  }

  /** The adapter service over {@code store}, refusing writes unless {@code writable}. */
  public static BindableService adapters(AdapterStore store, boolean writable) {
    return new AdapterGrpcService(store, writable);
  }
}
