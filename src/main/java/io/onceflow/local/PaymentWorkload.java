package io.onceflow.local;

import io.onceflow.payments.model.PaymentRequest;
import io.onceflow.payments.model.RequestMetadata;
import io.onceflow.records.SingleObjectCodec;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Seeded payment traffic for the demo, the tests and the benchmarks: customers to load into
 * PostgreSQL and a stream of {@code payments.requests} records with the troubles production
 * sees, in proportions that the seed fixes.
 *
 * <p>Per request: about 5% repeat an earlier request (same key, same payload: a client's retry),
 * 1% reuse an earlier key with a different amount, 1% are bytes that are no Avro record, 1% are
 * invalid (negative amount, unknown currency, ...), 2% name a customer that does not exist, and
 * some customers are inactive or have small daily limits. Customer ids are skewed: a few
 * customers send much of the traffic, as in real payment streams.
 *
 * <p>The same seed gives the same customers and the same requests, so a test can regenerate what
 * it sent and check every answer.
 */
public final class PaymentWorkload {

    /** What a generated record is meant to exercise. */
    public enum Kind {
        NEW,
        REPEAT,
        KEY_REUSE,
        UNDECODABLE,
        INVALID,
        UNKNOWN_CUSTOMER
    }

    /** A customer to seed into the {@code customers} table. */
    public record Customer(String id, String status, long dailyLimitMinor, String currency) {}

    /**
     * One record for {@code payments.requests}; {@code request} is null for undecodable bytes and
     * {@code expectedRejection} names the validation reason of an invalid one.
     */
    public record Generated(
            int index, Kind kind, byte[] key, byte[] value, PaymentRequest request, String expectedRejection) {}

    private final Random random;
    private final List<Customer> customers;
    private final List<PaymentRequest> sent = new ArrayList<>();
    private final Instant start;
    private int index;

    public PaymentWorkload(long seed, int customerCount, Instant start) {
        this.random = new Random(seed);
        this.start = start;
        this.customers = new ArrayList<>(customerCount);
        for (int i = 0; i < customerCount; i++) {
            String status = i % 25 == 7 ? "INACTIVE" : i % 50 == 13 ? "BLOCKED" : "ACTIVE";
            long limit = i % 10 == 3 ? 30_000 : 5_000_000;
            customers.add(new Customer(String.format("cust-%05d", i), status, limit, "EUR"));
        }
    }

    public List<Customer> customers() {
        return customers;
    }

    /** Loads the customers into the {@code customers} table (after the migrations). */
    public void seedCustomers(Connection connection) throws SQLException {
        try (PreparedStatement insert =
                connection.prepareStatement(
                        "INSERT INTO customers (customer_id, status, daily_limit_minor, currency)"
                                + " VALUES (?, ?, ?, ?) ON CONFLICT (customer_id) DO NOTHING")) {
            for (Customer customer : customers) {
                insert.setString(1, customer.id());
                insert.setString(2, customer.status());
                insert.setLong(3, customer.dailyLimitMinor());
                insert.setString(4, customer.currency());
                insert.addBatch();
            }
            insert.executeBatch();
        }
    }

    /** The next record; {@code at} becomes its {@code requestedAt}. */
    public Generated next(Instant at) {
        int i = index++;
        int roll = random.nextInt(100);
        if (roll < 5 && !sent.isEmpty()) {
            PaymentRequest original = sent.get(random.nextInt(sent.size()));
            PaymentRequest repeat = PaymentRequest.newBuilder(original).build();
            return encoded(i, Kind.REPEAT, repeat, null);
        }
        if (roll == 5 && !sent.isEmpty()) {
            PaymentRequest original = sent.get(random.nextInt(sent.size()));
            PaymentRequest reuse =
                    PaymentRequest.newBuilder(original)
                            .setAmountMinor(original.getAmountMinor() + 1 + random.nextInt(100))
                            .setRequestedAt(at)
                            .build();
            return encoded(i, Kind.KEY_REUSE, reuse, null);
        }
        if (roll == 6) {
            byte[] garbage = new byte[8 + random.nextInt(40)];
            random.nextBytes(garbage);
            if (random.nextBoolean()) {
                garbage[0] = (byte) 0xC3; // right magic, nonsense after it
                garbage[1] = (byte) 0x01;
            }
            return new Generated(
                    i, Kind.UNDECODABLE, ("garbage-" + i).getBytes(StandardCharsets.UTF_8), garbage, null, null);
        }
        PaymentRequest request = fresh(i, at);
        if (roll == 7) {
            String reason;
            switch (random.nextInt(3)) {
                case 0:
                    request.setAmountMinor(-request.getAmountMinor());
                    reason = "amount_not_positive";
                    break;
                case 1:
                    request.setCurrency("XXQ");
                    reason = "unknown_currency";
                    break;
                default:
                    request.setMerchantId("");
                    reason = "invalid_merchant_id";
                    break;
            }
            return encoded(i, Kind.INVALID, request, reason);
        }
        if (roll < 10) {
            request.setCustomerId(String.format("ghost-%05d", random.nextInt(1_000)));
            sent.add(request);
            return encoded(i, Kind.UNKNOWN_CUSTOMER, request, null);
        }
        sent.add(request);
        return encoded(i, Kind.NEW, request, null);
    }

    /** The next record, requested now. */
    public Generated next() {
        return next(Instant.now());
    }

    /** {@code count} records requested from the workload's start on, 10 ms apart. */
    public List<Generated> batch(int count) {
        List<Generated> records = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            records.add(next(start.plusMillis(10L * index)));
        }
        return records;
    }

    private PaymentRequest fresh(int i, Instant at) {
        // Skew: a quarter of the traffic comes from the first 5% of customers.
        int customer =
                random.nextInt(4) == 0
                        ? random.nextInt(Math.max(1, customers.size() / 20))
                        : random.nextInt(customers.size());
        return PaymentRequest.newBuilder()
                .setIdempotencyKey(String.format("idem-%08d-%04x", i, random.nextInt(0x10000)))
                .setCustomerId(customers.get(customer).id())
                .setMerchantId(String.format("merchant-%03d", random.nextInt(300)))
                .setAmountMinor(100 + random.nextInt(20_000))
                .setCurrency("EUR")
                .setRequestedAt(at)
                .setMetadata(
                        new RequestMetadata(
                                "10.0." + random.nextInt(256) + "." + random.nextInt(256),
                                random.nextBoolean() ? "Mozilla/5.0 (iPhone)" : "okhttp/4.12"))
                .build();
    }

    private static Generated encoded(int i, Kind kind, PaymentRequest request, String rejection) {
        return new Generated(
                i,
                kind,
                request.getIdempotencyKey().getBytes(StandardCharsets.UTF_8),
                SingleObjectCodec.encode(request),
                request,
                rejection);
    }
}
