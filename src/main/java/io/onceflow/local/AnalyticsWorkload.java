package io.onceflow.local;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Seeded analytics traffic for the demo and the tests: users to load into PostgreSQL's {@code
 * users} and a stream of {@code analytics.events} records as web and mobile SDKs send them (JSON),
 * with the troubles production sees, in proportions the seed fixes.
 *
 * <p>Per event: about 5% are SDK retries (the exact bytes of an earlier event, same eventId),
 * 4% are invalid, one reason each in turn ({@link #INVALID_REASONS}: unparseable bytes, a string
 * over the limit, an unknown type, a missing required property, a number sent as text, a
 * timestamp that is no time, a timestamp an hour in the future), 3% are late: {@code
 * occurredAt} minutes behind the stream, beyond any allowed lateness of a few minutes once the
 * watermark has moved. A fifth are anonymous (an {@code anonymousId}, no {@code userId}); a tenth
 * of the user ids are not in {@code users}. Types: page views half, then clicks, add-to-cart,
 * purchases (EUR, USD, GBP; one to four items), signups. Users are skewed: a quarter of the
 * events come from the first 5% of users. Event time moves on with each event, up to 3 s out of
 * order.
 *
 * <p>The same seed gives the same users and the same records, so a test can check every one.
 */
public final class AnalyticsWorkload {

    /** What a generated record is meant to exercise. */
    public enum Kind {
        NEW,
        RETRY,
        LATE,
        INVALID
    }

    /** The dead-letter reasons the invalid events take in turn. */
    public static final List<String> INVALID_REASONS =
            List.of("unparseable", "too_large", "unknown_type", "missing_field", "bad_type", "bad_value", "bad_timestamp");

    /** A user to seed into {@code users}. */
    public record User(String id, String country, String plan, Instant signupAt) {}

    /**
     * One record for {@code analytics.events}: {@code eventId} and {@code type} of a valid event
     * (a retry has its original's), {@code expectedReason} of an invalid one.
     */
    public record Generated(
            int index, Kind kind, byte[] key, byte[] value, String eventId, String type, String expectedReason) {

        public boolean valid() {
            return kind != Kind.INVALID;
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] COUNTRIES = {"DE", "FR", "US", "GB", "CH", "NL", "ES", "IT"};
    private static final String[] PLANS = {"free", "free", "free", "pro", "team"};
    private static final String[] CURRENCIES = {"EUR", "EUR", "EUR", "EUR", "EUR", "EUR", "EUR", "USD", "USD", "GBP"};
    private static final String[] USER_AGENTS = {
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari/605.1.15",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36",
        "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "shop-app/5.2.1 (Android 14; okhttp/4.12)"
    };
    private static final String[] PAGES = {"/", "/pricing", "/products/kettle", "/products/mug", "/cart", "/blog/launch"};

    private final Random random;
    private final List<User> users;
    private final Instant start;
    private final Duration step;
    private final List<Generated> validSent = new ArrayList<>();
    private int index;
    private int invalidCount;

    /**
     * @param start event time of the first event of {@link #batch}
     * @param step event time between consecutive events of {@link #batch}
     */
    public AnalyticsWorkload(long seed, int userCount, Instant start, Duration step) {
        this.random = new Random(seed);
        this.start = start;
        this.step = step;
        this.users = new ArrayList<>(userCount);
        Random profiles = new Random(seed ^ 0x5EEDL);
        for (int i = 0; i < userCount; i++) {
            users.add(new User(
                    String.format("user-%05d", i),
                    COUNTRIES[profiles.nextInt(COUNTRIES.length)],
                    PLANS[profiles.nextInt(PLANS.length)],
                    Instant.parse("2024-01-01T00:00:00Z").plus(Duration.ofHours(profiles.nextInt(20_000)))));
        }
    }

    public List<User> users() {
        return users;
    }

    /** Whether {@code userId} is in {@code users} after {@link #seedUsers}: every tenth is not. */
    public static boolean isSeeded(String userId) {
        return Integer.parseInt(userId.substring(userId.indexOf('-') + 1)) % 10 != 9;
    }

    /** Loads the users into {@code users} (after the migrations), except every tenth. */
    public void seedUsers(Connection connection) throws SQLException {
        try (PreparedStatement insert = connection.prepareStatement(
                "INSERT INTO users (user_id, country, plan, signup_at) VALUES (?, ?, ?, ?)"
                        + " ON CONFLICT (user_id) DO NOTHING")) {
            for (User user : users) {
                if (!isSeeded(user.id())) {
                    continue;
                }
                insert.setString(1, user.id());
                insert.setString(2, user.country());
                insert.setString(3, user.plan());
                insert.setObject(4, OffsetDateTime.ofInstant(user.signupAt(), ZoneOffset.UTC));
                insert.addBatch();
            }
            insert.executeBatch();
        }
    }

    /** The next record, with {@code at} as the stream's current event time. */
    public Generated next(Instant at) {
        int i = index++;
        int roll = random.nextInt(100);
        if (roll < 5 && !validSent.isEmpty()) {
            Generated original = validSent.get(random.nextInt(validSent.size()));
            return new Generated(i, Kind.RETRY, original.key(), original.value(), original.eventId(), original.type(), null);
        }
        if (roll < 9) {
            String reason = INVALID_REASONS.get(invalidCount++ % INVALID_REASONS.size());
            return invalid(i, reason, at);
        }
        boolean late = roll < 12;
        Instant occurredAt = late
                ? at.minus(Duration.ofMinutes(4 + random.nextInt(6)))
                : at.minusMillis(random.nextInt(3_000));
        ObjectNode event = event(i, occurredAt);
        Generated generated = new Generated(
                i, late ? Kind.LATE : Kind.NEW, key(event), bytes(event),
                event.get("eventId").asText(), event.get("type").asText(), null);
        validSent.add(generated);
        return generated;
    }

    /** The next record, happening now. */
    public Generated next() {
        return next(Instant.now());
    }

    /** {@code count} records whose event time starts at the workload's start and moves by its step. */
    public List<Generated> batch(int count) {
        List<Generated> records = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            records.add(next(start.plus(step.multipliedBy(index))));
        }
        return records;
    }

    private ObjectNode event(int i, Instant occurredAt) {
        int kind = random.nextInt(100);
        String type = kind < 50 ? "page_view" : kind < 75 ? "click" : kind < 87 ? "add_to_cart" : kind < 95 ? "purchase" : "signup";
        ObjectNode event = JSON.createObjectNode();
        event.put("eventId", String.format("evt-%08d-%04x", i, random.nextInt(0x10000)));
        event.put("type", type);
        int user = random.nextInt(4) == 0
                ? random.nextInt(Math.max(1, users.size() / 20))
                : random.nextInt(users.size());
        if (random.nextInt(5) == 0) {
            event.put("anonymousId", String.format("anon-%06x", user * 7919 % 0x1000000));
        } else {
            event.put("userId", users.get(user).id());
        }
        event.put("sessionId", String.format("sess-%05d-%d", user, i / 200));
        event.put("occurredAt", occurredAt.toString());
        ObjectNode context = event.putObject("context");
        context.put("userAgent", USER_AGENTS[random.nextInt(USER_AGENTS.length)]);
        context.put("ip", "192.0.2." + random.nextInt(256));
        context.put("locale", random.nextBoolean() ? "de-DE" : "en-US");
        ObjectNode properties = event.putObject("properties");
        String page = PAGES[random.nextInt(PAGES.length)];
        switch (type) {
            case "page_view" -> {
                properties.put("url", "https://shop.example" + page);
                if (random.nextBoolean()) {
                    properties.put("referrer", "https://search.example/?q=kettle");
                }
                properties.put("title", "Shop " + page);
            }
            case "click" -> {
                properties.put("elementId", random.nextBoolean() ? "buy-button" : "nav-" + random.nextInt(8));
                properties.put("url", "https://shop.example" + page);
            }
            case "add_to_cart" -> {
                properties.put("sku", "sku-" + random.nextInt(500));
                properties.put("quantity", 1 + random.nextInt(3));
                properties.put("priceMinor", 199 + random.nextInt(20_000));
                properties.put("currency", CURRENCIES[random.nextInt(CURRENCIES.length)]);
            }
            case "purchase" -> {
                properties.put("orderId", String.format("order-%08d", i));
                properties.put("currency", CURRENCIES[random.nextInt(CURRENCIES.length)]);
                ArrayNode items = properties.putArray("items");
                long revenue = 0;
                for (int item = 0, n = 1 + random.nextInt(4); item < n; item++) {
                    int quantity = 1 + random.nextInt(3);
                    long price = 199 + random.nextInt(20_000);
                    items.addObject().put("sku", "sku-" + random.nextInt(500)).put("quantity", quantity).put("priceMinor", price);
                    revenue += quantity * price;
                }
                properties.put("revenueMinor", revenue);
                if (random.nextInt(5) == 0) {
                    properties.put("coupon", "WELCOME10");
                }
            }
            default -> {
                properties.put("method", random.nextBoolean() ? "email" : "google");
                properties.put("plan", PLANS[random.nextInt(PLANS.length)]);
            }
        }
        return event;
    }

    private Generated invalid(int i, String reason, Instant at) {
        ObjectNode event = event(i, at.minusMillis(random.nextInt(3_000)));
        byte[] value;
        switch (reason) {
            case "unparseable" -> {
                byte[] json = bytes(event);
                value = java.util.Arrays.copyOf(json, json.length / 2);
            }
            case "too_large" -> {
                event.with("context").put("userAgent", "x".repeat(5_000));
                value = bytes(event);
            }
            case "unknown_type" -> {
                event.put("type", "screen_view");
                value = bytes(event);
            }
            case "missing_field" -> {
                event.remove("userId");
                event.remove("anonymousId");
                value = bytes(event);
            }
            case "bad_type" -> {
                event.put("occurredAt", true);
                value = bytes(event);
            }
            case "bad_value" -> {
                event.put("occurredAt", "yesterday");
                value = bytes(event);
            }
            default -> {
                event.put("occurredAt", Instant.now().plus(Duration.ofHours(1)).toString());
                value = bytes(event);
            }
        }
        return new Generated(i, Kind.INVALID, key(event), value, null, null, reason);
    }

    private static byte[] key(ObjectNode event) {
        String user = event.hasNonNull("userId") ? event.get("userId").asText()
                : event.hasNonNull("anonymousId") ? event.get("anonymousId").asText() : "none";
        return user.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] bytes(ObjectNode event) {
        try {
            return JSON.writeValueAsBytes(event);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
