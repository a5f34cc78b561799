package io.onceflow.payments;

import io.onceflow.enrichment.gateway.GatewayDecision;
import io.onceflow.enrichment.gateway.GatewayException;
import io.onceflow.enrichment.gateway.GatewayRequest;
import io.onceflow.enrichment.gateway.PaymentGateway;
import io.onceflow.payments.model.AuthorizationRequest;
import io.onceflow.payments.model.CustomerProfile;
import io.onceflow.payments.model.OriginalResult;
import io.onceflow.payments.model.PaymentRequest;
import io.onceflow.payments.model.PaymentResult;
import io.onceflow.payments.model.PaymentStatus;
import io.onceflow.payments.state.GatewayCall;
import io.onceflow.payments.state.IdempotencyEntry;

import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.streaming.api.functions.async.AsyncRetryStrategy;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.InternalTimer;
import org.apache.flink.streaming.api.operators.InternalTimerService;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.api.operators.Triggerable;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.function.SerializableSupplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Serializable;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Authorizes each customer's payments one at a time: the stream form of "lock the customer's
 * row, check, call the gateway, record, unlock". Keyed by customer id.
 *
 * <p>For each request, in the customer's arrival order:
 *
 * <ol>
 *   <li><b>Idempotency.</b> The final result of every request is kept per (customer, idempotency
 *       key) with a TTL. A repeat with the same payload gets {@code DUPLICATE} carrying that
 *       result; a repeat with a different payload gets {@code REJECTED idempotency_key_reused}.
 *       {@code FAILED} is not final and not kept, so a client's retry is processed again.
 *   <li><b>Checks.</b> Unknown or inactive customer, currency other than the account's, or a
 *       payment that would take the customer over the daily limit (UTC day of {@code
 *       requestedAt}) is {@code REJECTED}, and that result is kept like any final one.
 *   <li><b>Gateway.</b> One call at a time per customer, with the idempotency key as {@code
 *       Idempotency-Key}; transient failures are retried with Flink's exponential {@link
 *       AsyncRetryStrategy} on keyed processing-time timers. An open circuit breaker is waited out
 *       (it refused the call; the gateway was not asked) up to {@code giveUpAfter}. Approved is
 *       {@code COMPLETED} and counts towards the day's spend; declined is {@code DECLINED}; still
 *       unavailable after the retries is {@code FAILED}.
 * </ol>
 *
 * <p>Why one operator and not separate dedup, limit and gateway steps: a repeat must be answered
 * with the original's result, and the next payment's limit check must see whether the previous
 * one was approved; both need the gateway's answer where the state lives, and a Flink job graph
 * has no edge back upstream. So the gateway call is made from here, asynchronously: the task
 * thread never waits on the network, answers come back through the mailbox, and requests of a
 * customer that arrive while its call is under way wait in keyed state, in order.
 *
 * <p>Exactly-once: the call under way and the waiting requests are keyed state, so a checkpoint
 * holds them; after a restore every call that was under way is made again (the gateway answers a
 * repeated {@code Idempotency-Key} with its first answer) and backoff timers fire as restored.
 * Results reach the sinks only through checkpointed transactions. On end of input (bounded runs)
 * the operator waits for every call before it finishes.
 *
 * <p>Calls under way live on the heap between checkpoints, at most {@code capacity} of them, and
 * are written to their keyed state when a snapshot is taken: a payment's call then costs no state
 * write and reads of the whole request (Avro serialisation of this state was a sixth of this
 * operator's thread in the benchmark's profile). A call that ends after being snapshotted is
 * cleared from keyed state at once, so keyed state never holds an ended call for a later
 * snapshot.
 *
 * <p>Backpressure: at most {@code capacity} customers have a call under way or backing off; a
 * further request that would start one blocks input until a call ends. A customer with more than
 * {@code maxWaitingPerCustomer} requests queued gets {@code REJECTED too_many_pending} rather
 * than unbounded state.
 *
 * <p>Pitfall: results leave in completion order, not arrival order, and watermarks are passed on
 * as they arrive; nothing downstream of this operator may rely on event time.
 */
public final class PaymentAuthorizer extends AbstractStreamOperator<PaymentResult>
        implements OneInputStreamOperator<AuthorizationRequest, PaymentResult>,
                Triggerable<String, VoidNamespace>,
                BoundedOneInput {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(PaymentAuthorizer.class);

    /** The reason of a repeat that reuses an earlier request's idempotency key with another payload. */
    public static final String KEY_REUSED = "idempotency_key_reused";

    static final String IDEMPOTENCY_STATE = "idempotency";
    static final String DAILY_SPEND_STATE = "daily-spend";
    static final String GATEWAY_CALL_STATE = "gateway-call";
    static final String WAITING_STATE = "waiting";

    private final Settings settings;
    private final SerializableSupplier<PaymentGateway> gatewayFactory;
    private final transient MailboxExecutor mailboxExecutor;

    private transient PaymentGateway gateway;
    private transient AsyncRetryStrategy<GatewayDecision> retryStrategy;
    private transient MapState<String, IdempotencyEntry> idempotency;
    private transient MapState<Long, Long> dailySpend;
    private transient ValueState<GatewayCall> gatewayCall;
    private transient ListState<AuthorizationRequest> waiting;
    private transient InternalTimerService<VoidNamespace> retryTimers;

    /** Calls under way by customer: the current truth; {@link #gatewayCall} as of the last snapshot. */
    private transient Map<String, GatewayCall> callsUnderWay;

    /** Customers whose call is in {@link #gatewayCall} from a snapshot and is still under way. */
    private transient Set<String> callsInState;

    /** Customers with a call under way or backing off; the bound of {@code capacity}. */
    private transient int activeCalls;

    private transient Map<PaymentStatus, Counter> resultsByStatus;
    private transient Counter duplicatesAnswered;
    private transient Counter idempotencyKeysReused;
    private transient Counter gatewayAttempts;
    private transient Counter gatewayRetries;
    private transient Counter gatewayFailures;
    private transient long lastFailureLoggedAt;
    private transient Histogram gatewayLatencyMillis;

    PaymentAuthorizer(
            StreamOperatorParameters<PaymentResult> parameters,
            Settings settings,
            SerializableSupplier<PaymentGateway> gatewayFactory) {
        super(parameters);
        this.settings = settings;
        this.gatewayFactory = gatewayFactory;
        this.mailboxExecutor = parameters.getMailboxExecutor();
    }

    /** What the authorizer needs besides its gateway. */
    public record Settings(
            Duration idempotencyTtl,
            Duration spendRetention,
            io.onceflow.config.RetrySettings gatewayRetry,
            Duration circuitOpenWait,
            Duration giveUpAfter,
            int capacity,
            int maxWaitingPerCustomer)
            implements Serializable {

        public Settings {
            if (capacity < 1) {
                throw new IllegalArgumentException("The authorizer's capacity must be at least 1.");
            }
            if (maxWaitingPerCustomer < 0) {
                throw new IllegalArgumentException(
                        "The authorizer's max-waiting-per-customer must not be negative.");
            }
        }
    }

    @Override
    public void open() throws Exception {
        super.open();
        retryStrategy = settings.gatewayRetry().strategy(results -> false, PaymentGateway::isTransient);
        idempotency =
                getRuntimeContext()
                        .getMapState(
                                withTtl(
                                        new MapStateDescriptor<>(
                                                IDEMPOTENCY_STATE,
                                                Types.STRING,
                                                new AvroTypeInfo<>(IdempotencyEntry.class)),
                                        settings.idempotencyTtl()));
        dailySpend =
                getRuntimeContext()
                        .getMapState(
                                withTtl(
                                        new MapStateDescriptor<>(
                                                DAILY_SPEND_STATE, Types.LONG, Types.LONG),
                                        settings.spendRetention()));
        gatewayCall =
                getRuntimeContext()
                        .getState(
                                new ValueStateDescriptor<>(
                                        GATEWAY_CALL_STATE, new AvroTypeInfo<>(GatewayCall.class)));
        waiting =
                getRuntimeContext()
                        .getListState(
                                new ListStateDescriptor<>(
                                        WAITING_STATE,
                                        new AvroTypeInfo<>(AuthorizationRequest.class)));
        retryTimers =
                getInternalTimerService("gateway-retry", VoidNamespaceSerializer.INSTANCE, this);
        callsUnderWay = new HashMap<>();
        callsInState = new HashSet<>();
        registerMetrics(getMetricGroup());
        gateway = gatewayFactory.get();
        resumeCallsOfRestoredState();
    }

    private static <D extends org.apache.flink.api.common.state.StateDescriptor<?, ?>> D withTtl(
            D descriptor, Duration ttl) {
        descriptor.enableTimeToLive(
                StateTtlConfig.newBuilder(ttl)
                        .setUpdateType(StateTtlConfig.UpdateType.OnCreateAndWrite)
                        .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
                        .build());
        return descriptor;
    }

    private void registerMetrics(MetricGroup group) {
        resultsByStatus = new EnumMap<>(PaymentStatus.class);
        MetricGroup results = group.addGroup("results");
        for (PaymentStatus status : PaymentStatus.values()) {
            resultsByStatus.put(status, results.counter(status.name().toLowerCase()));
        }
        duplicatesAnswered = group.counter("duplicatesAnswered");
        idempotencyKeysReused = group.counter("idempotencyKeysReused");
        gatewayAttempts = group.counter("gatewayAttempts");
        gatewayRetries = group.counter("gatewayRetries");
        gatewayFailures = group.counter("gatewayFailures");
        gatewayLatencyMillis =
                group.histogram("gatewayLatencyMillis", new DescriptiveStatisticsHistogram(1000));
        group.gauge("activeGatewayCalls", () -> activeCalls);
        group.gauge("gatewayCircuitState", () -> gateway == null ? 0 : gateway.circuitState().code());
    }

    /**
     * Makes again every call that was under way when the restored checkpoint was taken; calls
     * that were backing off resume when their restored timers fire.
     */
    private void resumeCallsOfRestoredState() throws Exception {
        List<String> customers;
        try (var keys = getKeyedStateBackend().getKeys(GATEWAY_CALL_STATE, VoidNamespace.INSTANCE)) {
            customers = keys.map(String.class::cast).collect(Collectors.toList());
        }
        for (String customer : customers) {
            setCurrentKey(customer);
            GatewayCall call = gatewayCall.value();
            if (call == null) {
                continue;
            }
            // A copy: a heap state backend keeps the object it hands out, and calls change in place.
            GatewayCall resumed = GatewayCall.newBuilder(call).build();
            callsUnderWay.put(customer, resumed);
            callsInState.add(customer);
            activeCalls++;
            if (resumed.getRetryAt() == null) {
                startAttempt(customer, resumed);
            }
        }
    }

    @Override
    public void processElement(StreamRecord<AuthorizationRequest> element) throws Exception {
        AuthorizationRequest payment = element.getValue();
        String customer = payment.getRequest().getCustomerId();
        GatewayCall call = callsUnderWay.get(customer);
        if (call != null) {
            enqueueBehind(call, payment);
            return;
        }
        while (activeCalls >= settings.capacity()) {
            // Yielding runs other mails (gateway answers, timers) that switch the current key.
            mailboxExecutor.yield();
            setCurrentKey(customer);
            call = callsUnderWay.get(customer);
            if (call != null) {
                enqueueBehind(call, payment);
                return;
            }
        }
        decide(payment);
    }

    private void enqueueBehind(GatewayCall call, AuthorizationRequest payment) throws Exception {
        if (call.getWaiting() >= settings.maxWaitingPerCustomer()) {
            emit(PaymentResults.rejected(payment, "too_many_pending", now()));
            return;
        }
        waiting.add(payment);
        call.setWaiting(call.getWaiting() + 1);
    }

    /** Settles {@code payment} now or starts its gateway call; no call may be under way. */
    private void decide(AuthorizationRequest payment) throws Exception {
        PaymentRequest request = payment.getRequest();
        long fingerprint = PaymentIds.payloadFingerprint(request);
        IdempotencyEntry seen = idempotency.get(request.getIdempotencyKey());
        if (seen != null) {
            if (seen.getPayloadFingerprint() != fingerprint) {
                idempotencyKeysReused.inc();
                emit(PaymentResults.rejected(payment, KEY_REUSED, now()));
            } else {
                duplicatesAnswered.inc();
                emit(PaymentResults.duplicate(payment, seen.getOriginal(), now()));
            }
            return;
        }
        if (payment.getLookupFailure() != null) {
            emit(PaymentResults.failed(payment, payment.getLookupFailure(), now()));
            return;
        }
        Optional<String> rejection = checkCustomer(payment);
        if (rejection.isPresent()) {
            settle(payment, fingerprint, PaymentResults.rejected(payment, rejection.get(), now()));
            return;
        }
        GatewayCall call =
                GatewayCall.newBuilder()
                        .setPayment(payment)
                        .setAttempt(1)
                        .setRetryAt(null)
                        .setWaiting(0)
                        .setFirstAttemptAt(now().toEpochMilli())
                        .build();
        callsUnderWay.put(request.getCustomerId(), call);
        activeCalls++;
        startAttempt(request.getCustomerId(), call);
    }

    private Optional<String> checkCustomer(AuthorizationRequest payment) throws Exception {
        CustomerProfile customer = payment.getCustomer();
        PaymentRequest request = payment.getRequest();
        if (customer == null) {
            return Optional.of("unknown_customer");
        }
        if (!"ACTIVE".equals(customer.getStatus())) {
            return Optional.of("customer_" + customer.getStatus().toLowerCase());
        }
        if (!customer.getCurrency().equals(request.getCurrency())) {
            return Optional.of("currency_mismatch");
        }
        Long spent = dailySpend.get(utcDay(request));
        long spentToday = spent == null ? 0 : spent;
        if (request.getAmountMinor() > customer.getDailyLimitMinor() - spentToday) {
            return Optional.of("daily_limit_exceeded");
        }
        return Optional.empty();
    }

    private static long utcDay(PaymentRequest request) {
        return Math.floorDiv(request.getRequestedAt().toEpochMilli(), TimeUnit.DAYS.toMillis(1));
    }

    private void startAttempt(String customer, GatewayCall call) {
        gatewayAttempts.inc();
        int attempt = call.getAttempt();
        PaymentRequest request = call.getPayment().getRequest();
        long startedAt = System.nanoTime();
        // The client's key scoped to its customer, so two customers' keys never meet at the
        // gateway; the payment id is exactly that.
        String paymentId = PaymentIds.paymentId(customer, request.getIdempotencyKey());
        gateway.authorize(
                        new GatewayRequest(
                                paymentId,
                                paymentId,
                                customer,
                                request.getMerchantId(),
                                request.getAmountMinor(),
                                request.getCurrency()))
                .whenComplete(
                        (decision, error) -> {
                            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedAt);
                            try {
                                mailboxExecutor.execute(
                                        () -> onAnswer(customer, attempt, millis, decision, error),
                                        "gateway answer for customer %s",
                                        customer);
                            } catch (RejectedExecutionException closing) {
                                // The task is going away; the restored state makes the call again.
                            }
                        });
    }

    private void onAnswer(
            String customer, int attempt, long millis, GatewayDecision decision, Throwable error)
            throws Exception {
        gatewayLatencyMillis.update(millis);
        setCurrentKey(customer);
        GatewayCall call = callsUnderWay.get(customer);
        if (call == null || call.getAttempt() != attempt || call.getRetryAt() != null) {
            throw new IllegalStateException(
                    "Gateway answer for customer " + customer + " attempt " + attempt
                            + " does not match the call in state " + call);
        }
        AuthorizationRequest payment = call.getPayment();
        Throwable cause = error == null ? null : PaymentGateway.unwrap(error);
        if (cause != null) {
            gatewayFailures.inc();
            logGatewayFailure(customer, attempt, cause);
            long now = now().toEpochMilli();
            if (isCircuitOpen(cause)) {
                // The gateway was not even asked: wait the circuit out instead of spending
                // retries on it, so that a short outage holds payments back rather than failing
                // them; past give-up-after the payment fails like any unavailable one.
                if (now - call.getFirstAttemptAt() < settings.giveUpAfter().toMillis()) {
                    scheduleRetry(call, now + settings.circuitOpenWait().toMillis());
                    return;
                }
            } else if (PaymentGateway.isTransient(cause) && retryStrategy.canRetry(attempt)) {
                gatewayRetries.inc();
                call.setAttempt(attempt + 1);
                scheduleRetry(call, now + retryStrategy.getBackoffTimeMillis(attempt));
                return;
            }
            emit(PaymentResults.failed(payment, failureReason(cause), now()));
        } else {
            PaymentRequest request = payment.getRequest();
            PaymentResult result;
            if (decision.outcome() == GatewayDecision.Outcome.APPROVED) {
                long day = utcDay(request);
                Long spent = dailySpend.get(day);
                dailySpend.put(day, (spent == null ? 0 : spent) + request.getAmountMinor());
                result =
                        PaymentResults.of(
                                request, payment.getSource(), PaymentStatus.COMPLETED, null,
                                decision.reference(), now());
            } else {
                result =
                        PaymentResults.of(
                                request, payment.getSource(), PaymentStatus.DECLINED,
                                decision.declineReason(), decision.reference(), now());
            }
            settle(payment, PaymentIds.payloadFingerprint(request), result);
        }
        endCall(customer, call);
    }

    private void scheduleRetry(GatewayCall call, long retryAt) throws Exception {
        call.setRetryAt(retryAt);
        retryTimers.registerProcessingTimeTimer(VoidNamespace.INSTANCE, retryAt);
    }

    private static boolean isCircuitOpen(Throwable cause) {
        return cause instanceof GatewayException gatewayFailure
                && "gateway_circuit_open".equals(gatewayFailure.reason());
    }

    @Override
    public void onProcessingTime(InternalTimer<String, VoidNamespace> timer) throws Exception {
        GatewayCall call = callsUnderWay.get(timer.getKey());
        if (call == null || call.getRetryAt() == null || call.getRetryAt() > timer.getTimestamp()) {
            return; // a timer of a call that has ended, or an earlier one of the same call
        }
        call.setRetryAt(null);
        startAttempt(timer.getKey(), call);
    }

    @Override
    public void onEventTime(InternalTimer<String, VoidNamespace> timer) {
        throw new UnsupportedOperationException("The authorizer registers no event-time timers");
    }

    /**
     * Releases the customer's lock and works off what queued behind it, in order. The current key
     * must be {@code customer}.
     */
    private void endCall(String customer, GatewayCall ended) throws Exception {
        callsUnderWay.remove(customer);
        if (callsInState.remove(customer)) {
            gatewayCall.clear();
        }
        activeCalls--;
        if (ended.getWaiting() == 0) {
            return;
        }
        List<AuthorizationRequest> queued = new ArrayList<>();
        waiting.get().forEach(queued::add);
        waiting.clear();
        for (int i = 0; i < queued.size(); i++) {
            decide(queued.get(i));
            GatewayCall started = callsUnderWay.get(customer);
            if (started != null) {
                List<AuthorizationRequest> rest = queued.subList(i + 1, queued.size());
                if (!rest.isEmpty()) {
                    waiting.update(new ArrayList<>(rest));
                    started.setWaiting(rest.size());
                }
                return;
            }
        }
    }

    private void settle(AuthorizationRequest payment, long fingerprint, PaymentResult result)
            throws Exception {
        OriginalResult original = PaymentResults.original(result);
        idempotency.put(
                payment.getRequest().getIdempotencyKey(),
                IdempotencyEntry.newBuilder()
                        .setPayloadFingerprint(fingerprint)
                        .setOriginal(original)
                        .build());
        emit(result);
    }

    private void emit(PaymentResult result) {
        resultsByStatus.get(result.getStatus()).inc();
        output.collect(new StreamRecord<>(result));
    }

    private Instant now() {
        return Instant.ofEpochMilli(getProcessingTimeService().getCurrentProcessingTime());
    }

    /** One line per ten seconds at most: an outage must not flood the log. */
    private void logGatewayFailure(String customer, int attempt, Throwable cause) {
        long now = System.nanoTime();
        if (now - lastFailureLoggedAt > TimeUnit.SECONDS.toNanos(10)) {
            lastFailureLoggedAt = now;
            LOG.warn(
                    "Gateway call failed ({}) for customer {} attempt {}: {} ({} failures so far)",
                    failureReason(cause), customer, attempt, cause.getMessage(), gatewayFailures.getCount());
        }
    }

    private static String failureReason(Throwable cause) {
        return cause instanceof GatewayException gatewayFailure ? gatewayFailure.reason() : "gateway_error";
    }

    /** Writes every call under way to keyed state, which the snapshot taken next holds. */
    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        for (Map.Entry<String, GatewayCall> call : callsUnderWay.entrySet()) {
            setCurrentKey(call.getKey());
            // A copy, since the call changes in place after this and a heap backend keeps references.
            gatewayCall.update(GatewayCall.newBuilder(call.getValue()).build());
            callsInState.add(call.getKey());
        }
    }

    @Override
    public void endInput() throws Exception {
        while (activeCalls > 0) {
            mailboxExecutor.yield();
        }
    }

    @Override
    public void close() throws Exception {
        try {
            if (gateway != null) {
                gateway.close();
            }
        } finally {
            super.close();
        }
    }
}
