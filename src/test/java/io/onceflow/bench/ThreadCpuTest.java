package io.onceflow.bench;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

import static org.assertj.core.api.Assertions.assertThat;

class ThreadCpuTest {

    @Test
    void taskThreadsAreGroupedByTheirChainWhateverTheSubtaskAttemptOrSourceTopic() {
        String first = "Source: Kafka: bench3-payments.requests -> Decode payment requests -> (Validate payment requests"
                + " -> Look up customers, Encode dead letters) (1/2)#0";
        String second = "Source: Kafka: bench7-payments.requests -> Decode payment requests -> (Validate payment requests"
                + " -> Look up customers, Encode dead letters) (2/2)#3";

        assertThat(ThreadCpu.group(first))
                .isEqualTo(ThreadCpu.group(second))
                .isEqualTo("task: Source: Kafka -> Decode payment requests -> (Validate payment requests"
                        + " -> Look up customers, Encode dead letters)");
        assertThat(ThreadCpu.group("Authorize payments per customer (2/2)#0"))
                .isEqualTo("task: Authorize payments per customer");
    }

    @Test
    void theSqlPeersOperatorsLineUpAcrossRunsWithoutTheirNumbers() {
        assertThat(ThreadCpu.group("Deduplicate[36] -> Calc[37] -> LookupJoin[38] -> Sink: sql_payments[40] (1/2)#0"))
                .isEqualTo(ThreadCpu.group("Deduplicate[46] -> Calc[47] -> LookupJoin[48] -> Sink: sql_payments[50] (2/2)#0"))
                .isEqualTo("task: Deduplicate -> Calc -> LookupJoin -> Sink: sql_payments");
    }

    @Test
    void threadsOutsideTheTasksGoToTheComponentThatRunsThem() {
        assertThat(ThreadCpu.group("Source Data Fetcher for Source: Kafka: x -> Decode payment requests (1/2)#0"))
                .isEqualTo("Kafka source: fetcher threads");
        assertThat(ThreadCpu.group("OutputFlusher for Authorize payments per customer (1/2)#0"))
                .isEqualTo(ThreadCpu.group("Time Trigger for Source: Kafka: x (1/2)#0"))
                .isEqualTo(ThreadCpu.group("System Time Trigger for Encode results and completion events (1/2)#0"))
                .isEqualTo(ThreadCpu.group("flink-pekko.actor.default-dispatcher-5"))
                .startsWith("Flink runtime");
        assertThat(ThreadCpu.group("kafka-producer-network-thread | producer-onceflow-payments-kafka-0-3"))
                .isEqualTo("Kafka producers' network threads (sinks)");
        assertThat(ThreadCpu.group("vert.x-eventloop-thread-1")).startsWith("Vert.x event loops");
        assertThat(ThreadCpu.group("gateway-simulator-eventloop")).isEqualTo("gateway simulator");
        for (String broker : List.of("data-plane-kafka-request-handler-3", "kafka-1-raft-io-thread",
                "quorum-controller-1-event-handler", "group-coordinator-event-processor-2", "kafka-scheduler-4",
                "metrics-meter-tick-thread-1")) {
            assertThat(ThreadCpu.group(broker)).as(broker).isEqualTo("Kafka broker");
        }
        assertThat(ThreadCpu.group("AsyncOperations-thread-12")).isEqualTo("checkpoints: asynchronous part");
        assertThat(ThreadCpu.group(OutputCounter.THREAD_NAME))
                .isEqualTo(ThreadCpu.group("main"))
                .isEqualTo("benchmark driver (counts outputs)");
        assertThat(ThreadCpu.group("something unforeseen")).isEqualTo("other threads");
    }

    @Test
    void aRunCountsWhatEachThreadUsedAfterTheStartAndLeavesTheRestToTheResidual() {
        var start = new ThreadCpu.Reading(
                Map.of(1L, new ThreadCpu.Named("kafka-scheduler-1", 500),
                        2L, new ThreadCpu.Named("vert.x-eventloop-thread-0", 1_000)),
                Map.of(), 10_000, Map.of(100L, 7_000L, 101L, 50L));
        var end = new ThreadCpu.Reading(
                Map.of(1L, new ThreadCpu.Named("kafka-scheduler-1", 800),
                        2L, new ThreadCpu.Named("vert.x-eventloop-thread-0", 1_500),
                        3L, new ThreadCpu.Named("Authorize payments per customer (1/2)#0", 4_000),
                        4L, new ThreadCpu.Named("Authorize payments per customer (2/2)#0", 2_000)),
                Map.of(), 20_000, Map.of(100L, 7_400L, 102L, 600L));

        Map<String, Long> used = ThreadCpu.between(start, end);

        assertThat(used).containsExactly(
                Map.entry("task: Authorize payments per customer", 6_000L),
                Map.entry(ThreadCpu.RESIDUAL, 10_000L - 300 - 500 - 6_000),
                Map.entry(ThreadCpu.POSTGRES, 400L + 600L),
                Map.entry("Vert.x event loops (PostgreSQL lookups, gateway client)", 500L),
                Map.entry("Kafka broker", 300L));
    }

    @Test
    void theJvmsOwnThreadsGetGroupsOfTheirOwnAndOnlyEndedThreadsAreLeftToTheResidual() {
        var start = new ThreadCpu.Reading(
                Map.of(1L, new ThreadCpu.Named("kafka-scheduler-1", 500)),
                Map.of("C2 CompilerThread0", 1_000L, "GC Thread#0", 100L, "VM Thread", 10L),
                10_000, Map.of());
        var end = new ThreadCpu.Reading(
                Map.of(1L, new ThreadCpu.Named("kafka-scheduler-1", 800)),
                Map.of("C2 CompilerThread0", 3_000L, "C1 CompilerThread0", 500L, "GC Thread#0", 400L,
                        "G1 Conc#0", 200L, "VM Thread", 60L),
                20_000, Map.of());

        Map<String, Long> used = ThreadCpu.between(start, end);

        assertThat(used).containsExactly(
                Map.entry(ThreadCpu.RESIDUAL_ENDED, 10_000L - 300 - 2_500 - 500 - 50),
                Map.entry(ThreadCpu.JIT, 2_000L + 500),
                Map.entry(ThreadCpu.GC, 300L + 200),
                Map.entry("Kafka broker", 300L),
                Map.entry(ThreadCpu.VM, 50L));
    }

    @Test
    void aReadingOfThisJvmSeesItsOwnThreadsAndThisProcessTreeWhenAskedFor() {
        long self = ProcessHandle.current().pid();

        ThreadCpu.Reading reading = ThreadCpu.now(OptionalLong.of(self));

        assertThat(reading.threads().values()).anyMatch(t -> t.name().equals(Thread.currentThread().getName()));
        assertThat(reading.processNanos()).isPositive();
        assertThat(reading.jvmThreads())
                .as("HotSpot's own threads, exported to the tests as to the bench; the JIT has compiled by now")
                .anySatisfy((name, nanos) -> {
                    assertThat(ThreadCpu.jvmGroup(name)).isEqualTo(ThreadCpu.JIT);
                    assertThat(nanos).isPositive();
                });
        assertThat(reading.postgresProcesses()).containsKey(self);
        assertThat(ThreadCpu.now(OptionalLong.empty()).postgresProcesses()).isEmpty();
    }
}
