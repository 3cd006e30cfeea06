/**
 * Authentication and authorization for ProtoRad, in plain Java over Apache Shiro core.
 *
 * <p>Entry points: {@link dev.protorad.policy.PolicyHolder} loads and reloads the YAML policy,
 * {@link dev.protorad.policy.PolicyEngine} authenticates callers (API keys, certificates,
 * gateway-asserted end users) and decides permissions, {@link dev.protorad.policy.BreakGlass} keeps
 * emergency-access grants. No transport types appear here; the server's interceptors translate.
 */
@NullMarked
package dev.protorad.policy;

import org.jspecify.annotations.NullMarked;
