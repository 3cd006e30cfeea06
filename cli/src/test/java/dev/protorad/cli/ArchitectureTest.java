package dev.protorad.cli;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import org.jspecify.annotations.NullMarked;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The directions the modules and packages may depend in, checked on the compiled classes of every
 * module on this module's class path (proto, policy, audit, engine, clinical, training, client SDK,
 * server, console).
 */
class ArchitectureTest {

  private static JavaClasses all;

  @BeforeAll
  static void importClasses() {
    all =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.protorad");
  }

  @Test
  void policyAndAudit_importNeitherGrpcNorTheApiNorTheServer() {
    noClasses()
        .that()
        .resideInAnyPackage("dev.protorad.policy..", "dev.protorad.audit..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "io.grpc..",
            "com.google.protobuf..",
            "dev.protorad.api..",
            "dev.protorad.server..",
            "dev.protorad.cli..",
            "dev.protorad.engine..",
            "dev.protorad.client..")
        .check(all);
  }

  @Test
  void engine_importsNoFeature() {
    noClasses()
        .that()
        .resideInAPackage("dev.protorad.engine..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "io.grpc..",
            "dev.protorad.api..",
            "dev.protorad.clinical..",
            "dev.protorad.training..",
            "dev.protorad.server..",
            "dev.protorad.cli..",
            "dev.protorad.policy..",
            "dev.protorad.audit..",
            "dev.protorad.client..")
        .check(all);
  }

  @Test
  void clinicalRules_importNeitherTrainingNorAnyFeature() {
    noClasses()
        .that()
        .resideInAPackage("dev.protorad.clinical..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "io.grpc..",
            "ai.djl..",
            "dev.protorad.api..",
            "dev.protorad.training..",
            "dev.protorad.server..",
            "dev.protorad.cli..",
            "dev.protorad.policy..",
            "dev.protorad.audit..",
            "dev.protorad.client..")
        .check(all);
  }

  @Test
  void training_knowsNothingOfTheServer() {
    noClasses()
        .that()
        .resideInAPackage("dev.protorad.training..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "io.grpc..",
            "dev.protorad.api..",
            "dev.protorad.server..",
            "dev.protorad.cli..",
            "dev.protorad.policy..",
            "dev.protorad.audit..",
            "dev.protorad.client..")
        .check(all);
  }

  @Test
  void servingJobsAndAdapters_knowNothingOfGrpc() {
    noClasses()
        .that()
        .resideInAnyPackage(
            "dev.protorad.server.serving..",
            "dev.protorad.server.jobs..",
            "dev.protorad.server.adapters..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("io.grpc..", "dev.protorad.api..")
        .check(all);
  }

  @Test
  void djl_staysInTheEngineAndTraining() {
    noClasses()
        .that()
        .resideOutsideOfPackages("dev.protorad.engine..", "dev.protorad.training..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("ai.djl..")
        .check(all);
  }

  @Test
  void clientSdk_usesOnlyTheApiModuleAndGrpc() {
    classes()
        .that()
        .resideInAPackage("dev.protorad.client..")
        .should()
        .onlyDependOnClassesThat()
        .resideInAnyPackage(
            "dev.protorad.client..",
            "dev.protorad.api..",
            "io.grpc..",
            "com.google.protobuf..",
            "com.google.common..",
            "org.jspecify.annotations..",
            "java..",
            "javax.annotation..")
        .check(all);
  }

  @Test
  void console_reachesTheServerOnlyThroughTheClientSdk() {
    classes()
        .that()
        .resideInAPackage("dev.protorad.console..")
        .should()
        .onlyDependOnClassesThat()
        .resideInAnyPackage(
            "dev.protorad.console..",
            "dev.protorad.client..",
            "dev.protorad.api..",
            "io.grpc..",
            "io.javalin..",
            "com.github.benmanes.caffeine..",
            "com.google.protobuf..",
            "com.fasterxml.jackson..",
            "org.jspecify.annotations..",
            "kotlin..",
            "java..")
        .check(all);
  }

  @Test
  void onlyTheCommandLine_dependsOnTheCommandLine() {
    noClasses()
        .that()
        .resideOutsideOfPackage("dev.protorad.cli..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("dev.protorad.cli..")
        .check(all);
  }

  @Test
  void onlyTheCommandLine_startsTheProcess() {
    noClasses()
        .that()
        .resideOutsideOfPackages("dev.protorad.cli..", "dev.protorad.server.app..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("dev.protorad.server.app..")
        .check(all);
  }

  @Test
  void everyPackage_isNullMarked_butTheGeneratedApi() {
    classes()
        .that()
        .resideOutsideOfPackage("dev.protorad.api..")
        .should(
            new ArchCondition<JavaClass>("reside in a @NullMarked package (NullAway checks it)") {
              @Override
              public void check(JavaClass c, ConditionEvents events) {
                if (!c.getPackage().isAnnotatedWith(NullMarked.class)) {
                  events.add(
                      SimpleConditionEvent.violated(
                          c, c.getPackageName() + " has no @NullMarked package-info"));
                }
              }
            })
        .check(all);
  }

  @Test
  void packages_areFreeOfCycles() {
    slices().matching("dev.protorad.(**)").should().beFreeOfCycles().check(all);
  }
}
