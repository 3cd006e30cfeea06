/**
 * The web console: server-rendered pages for the radiologist's review worklist, the compliance
 * officer's audit search and the ML lead's model versions. Every page calls the gRPC API through
 * the client SDK with the signed-in person's credentials, so the permission table, the field rules
 * and the audit trail are the API's own.
 */
@NullMarked
package dev.protorad.console;

import org.jspecify.annotations.NullMarked;
