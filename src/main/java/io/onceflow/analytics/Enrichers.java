package io.onceflow.analytics;

import io.onceflow.config.ConfigException;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The enrichers an event type can be configured with ({@code enrichers:} in {@code
 * jobs/analytics.yaml}, type → names):
 *
 * <ul>
 *   <li>{@value #USER_PROFILE}: country, plan and signup cohort of the event's {@code userId},
 *       from PostgreSQL's {@code users} through async I/O ({@link UserProfileLookup});
 *   <li>{@value #DEVICE_CLASS}: desktop, mobile, tablet, bot or other from the context's user
 *       agent, in process ({@link DeviceClassEnricher}).
 * </ul>
 *
 * An enricher that fails does not hold the event back: the event goes on with the enricher's
 * name in {@code enrichment.missing}.
 */
public final class Enrichers {

    public static final String USER_PROFILE = "user-profile";
    public static final String DEVICE_CLASS = "device-class";

    static final Set<String> KNOWN = Set.of(USER_PROFILE, DEVICE_CLASS);

    private Enrichers() {}

    /** Fails with one sentence unless every type is known and every enricher exists, once per type. */
    static void check(Map<String, List<String>> enrichers) {
        enrichers.forEach((type, names) -> {
            ConfigException.check(
                    EventTypes.schema(type).isPresent(),
                    "Setting 'enrichers' names the event type '" + type + "', which has no schema; known types: "
                            + String.join(", ", EventTypes.schemas().keySet()) + ".");
            Set<String> seen = new HashSet<>();
            for (String name : names) {
                ConfigException.check(
                        KNOWN.contains(name),
                        "Setting 'enrichers." + type + "' names the enricher '" + name + "'; known: "
                                + String.join(", ", KNOWN.stream().sorted().toList()) + ".");
                ConfigException.check(
                        seen.add(name), "Setting 'enrichers." + type + "' names '" + name + "' twice.");
            }
        });
    }
}
