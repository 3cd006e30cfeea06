/** Start-up of governance: the policy engine, the audit store with its sealing and retention. */
@NullMarked
package dev.protorad.server.governance;

import org.jspecify.annotations.NullMarked;
