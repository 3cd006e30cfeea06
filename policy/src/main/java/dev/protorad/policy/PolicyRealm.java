package dev.protorad.policy;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.shiro.authc.AuthenticationInfo;
import org.apache.shiro.authc.AuthenticationToken;
import org.apache.shiro.authz.AuthorizationInfo;
import org.apache.shiro.authz.Permission;
import org.apache.shiro.authz.SimpleAuthorizationInfo;
import org.apache.shiro.authz.permission.WildcardPermission;
import org.apache.shiro.realm.AuthorizingRealm;
import org.apache.shiro.subject.PrincipalCollection;
import org.apache.shiro.subject.SimplePrincipalCollection;
import org.jspecify.annotations.Nullable;

/**
 * A Shiro realm over one immutable policy snapshot: it turns a set of role names into their
 * wildcard permissions and lets Shiro's {@code implies} decide. Authentication is done by {@link
 * PolicyEngine} (API keys, certificates and tokens are not Shiro tokens), so this realm supports
 * none. Shiro's own caches are off: decisions are cached per snapshot by the engine.
 */
final class PolicyRealm extends AuthorizingRealm {
  private static final String NAME = "protorad-policy";

  private final Map<String, List<Permission>> rolePermissions;

  /** The roles of one caller, as the single principal of a Shiro principal collection. */
  private record RoleSet(Set<String> roles) {}

  PolicyRealm(Map<String, Set<String>> rolePermissions) {
    setName(NAME);
    setCachingEnabled(false);
    setAuthenticationCachingEnabled(false);
    setAuthorizationCachingEnabled(false);
    this.rolePermissions = compile(rolePermissions);
  }

  boolean permits(Set<String> roles, String permission) {
    return isPermitted(new SimplePrincipalCollection(new RoleSet(roles), NAME), permission);
  }

  @Override
  public boolean supports(AuthenticationToken token) {
    return false;
  }

  @Override
  protected @Nullable AuthenticationInfo doGetAuthenticationInfo(AuthenticationToken token) {
    return null;
  }

  @Override
  protected AuthorizationInfo doGetAuthorizationInfo(PrincipalCollection principals) {
    RoleSet roleSet = principals.oneByType(RoleSet.class);
    Set<String> known = new HashSet<>();
    Set<Permission> permissions = new HashSet<>();
    if (roleSet != null) {
      for (String role : roleSet.roles()) {
        List<Permission> granted = rolePermissions.get(role);
        if (granted != null) {
          known.add(role);
          permissions.addAll(granted);
        }
      }
    }
    SimpleAuthorizationInfo info = new SimpleAuthorizationInfo(known);
    info.setObjectPermissions(permissions);
    return info;
  }

  private static Map<String, List<Permission>> compile(Map<String, Set<String>> rolePermissions) {
    Map<String, List<Permission>> compiled = new HashMap<>();
    rolePermissions.forEach((role, permissions) -> compiled.put(role, wildcards(permissions)));
    return Map.copyOf(compiled);
  }

  private static List<Permission> wildcards(Set<String> permissions) {
    return permissions.stream().map(p -> (Permission) new WildcardPermission(p, true)).toList();
  }
}
