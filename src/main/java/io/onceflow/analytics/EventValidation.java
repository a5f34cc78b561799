package io.onceflow.analytics;

import io.onceflow.analytics.model.AnalyticsRecord;
import io.onceflow.ingest.DeadLetters;
import io.onceflow.records.SourceRecord;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

import java.time.Clock;
import java.util.HashMap;
import java.util.Map;

/**
 * Validates each {@code analytics.events} record ({@link EventValidator}): valid events go on,
 * invalid ones to the dead letters ({@link DeadLetters#TAG}) with their bytes, position and
 * reason. Counts dead letters per reason in the metric group {@code deadLetters.<reason>}.
 * Throws for no input, so no record can put the job into a restart loop.
 *
 * <p>Pitfall: the timestamp bounds use this operator's clock, so an event close to a bound may
 * be valid in one attempt and invalid after a restore replays it; each attempt's decision is
 * consistent with its own outputs, and exactly-once keeps only one attempt's.
 */
public final class EventValidation extends ProcessFunction<SourceRecord, AnalyticsRecord> {

    private static final long serialVersionUID = 1L;

    private final String jobName;
    private final EventValidator validator;
    private final Clock clock;
    private transient Map<String, Counter> deadLettersByReason;

    public EventValidation(String jobName, AnalyticsConfig.Validation settings) {
        this(jobName, settings, Clock.systemUTC());
    }

    EventValidation(String jobName, AnalyticsConfig.Validation settings, Clock clock) {
        this.jobName = jobName;
        this.validator = new EventValidator(settings);
        this.clock = clock;
    }

    @Override
    public void open(OpenContext openContext) {
        deadLettersByReason = new HashMap<>();
        var group = getRuntimeContext().getMetricGroup().addGroup("deadLetters");
        for (String reason : EventValidator.REASONS) {
            deadLettersByReason.put(reason, group.counter(reason));
        }
    }

    @Override
    public void processElement(SourceRecord record, Context context, Collector<AnalyticsRecord> out) {
        EventValidator.Outcome outcome = validator.validate(record, clock.instant());
        if (outcome instanceof EventValidator.Valid valid) {
            out.collect(valid.record());
        } else if (outcome instanceof EventValidator.Invalid invalid) {
            deadLettersByReason.get(invalid.reason()).inc();
            context.output(
                    DeadLetters.TAG,
                    DeadLetters.of(record, jobName, invalid.reason(), invalid.error(), clock.instant()));
        }
    }
}
