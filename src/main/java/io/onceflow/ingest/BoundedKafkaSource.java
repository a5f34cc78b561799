package io.onceflow.ingest;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.KafkaSourceEnumState;
import org.apache.flink.connector.kafka.source.split.KafkaPartitionSplit;
import org.apache.flink.core.io.SimpleVersionedSerializer;

import java.io.IOException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A bounded {@link KafkaSource} that also ends after its enumerator was restored from a
 * checkpoint.
 *
 * <p>Why: {@code flink-connector-kafka} 5.0.0's enumerator, recreated from a checkpoint (a global
 * failover, a JobManager failover, a savepoint restore), rediscovers partitions, finds them all
 * assigned already and returns before it marks discovery finished, so it never tells the readers
 * there are no more splits: a bounded job reads to its stopping offsets and then waits forever
 * (FLINK-31006, fix not released). This wrapper tells each reader of such a restored enumerator
 * itself, once per registration, right after the enumerator handed it its splits.
 *
 * <p>Pitfall: if partitions are added to the topic while a restored bounded run is under way, the
 * connector's enumerator signals too, and a reader that already finished may be signalled twice,
 * which fails the job over; bounded runs (tests, replays) read topics whose partitions are fixed.
 */
public final class BoundedKafkaSource<OUT>
        implements Source<OUT, KafkaPartitionSplit, KafkaSourceEnumState>, ResultTypeQueryable<OUT> {

    private static final long serialVersionUID = 1L;

    private final KafkaSource<OUT> delegate;

    public BoundedKafkaSource(KafkaSource<OUT> delegate) {
        if (delegate.getBoundedness() != Boundedness.BOUNDED) {
            throw new IllegalArgumentException("BoundedKafkaSource needs a bounded KafkaSource.");
        }
        this.delegate = delegate;
    }

    @Override
    public Boundedness getBoundedness() {
        return Boundedness.BOUNDED;
    }

    @Override
    public SourceReader<OUT, KafkaPartitionSplit> createReader(SourceReaderContext context) throws Exception {
        return delegate.createReader(context);
    }

    @Override
    public SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> createEnumerator(
            SplitEnumeratorContext<KafkaPartitionSplit> context) throws Exception {
        return delegate.createEnumerator(context);
    }

    @Override
    public SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> restoreEnumerator(
            SplitEnumeratorContext<KafkaPartitionSplit> context, KafkaSourceEnumState checkpoint)
            throws IOException {
        SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> restored =
                delegate.restoreEnumerator(context, checkpoint);
        return checkpoint.initialDiscoveryFinished()
                ? new SignallingEnumerator(restored, context)
                : restored;
    }

    @Override
    public SimpleVersionedSerializer<KafkaPartitionSplit> getSplitSerializer() {
        return delegate.getSplitSerializer();
    }

    @Override
    public SimpleVersionedSerializer<KafkaSourceEnumState> getEnumeratorCheckpointSerializer() {
        return delegate.getEnumeratorCheckpointSerializer();
    }

    @Override
    public TypeInformation<OUT> getProducedType() {
        return delegate.getProducedType();
    }

    /** Signals "no more splits" to each registering reader after the restored enumerator's own work. */
    private static final class SignallingEnumerator
            implements SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> {

        private final SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> delegate;
        private final SplitEnumeratorContext<KafkaPartitionSplit> context;
        private final Set<Integer> signalled = new HashSet<>();

        SignallingEnumerator(
                SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> delegate,
                SplitEnumeratorContext<KafkaPartitionSplit> context) {
            this.delegate = delegate;
            this.context = context;
        }

        @Override
        public void start() {
            delegate.start();
        }

        @Override
        public void handleSplitRequest(int subtaskId, String requesterHostname) {
            delegate.handleSplitRequest(subtaskId, requesterHostname);
        }

        @Override
        public void addSplitsBack(List<KafkaPartitionSplit> splits, int subtaskId) {
            // A reader that gives its splits back is being reset; its next registration is new.
            signalled.remove(subtaskId);
            delegate.addSplitsBack(splits, subtaskId);
            if (context.registeredReaders().containsKey(subtaskId)) {
                signal(subtaskId);
            }
        }

        @Override
        public void addReader(int subtaskId) {
            delegate.addReader(subtaskId);
            signal(subtaskId);
        }

        private void signal(int subtaskId) {
            if (signalled.add(subtaskId)) {
                context.signalNoMoreSplits(subtaskId);
            }
        }

        @Override
        public KafkaSourceEnumState snapshotState(long checkpointId) throws Exception {
            return delegate.snapshotState(checkpointId);
        }

        @Override
        public void notifyCheckpointComplete(long checkpointId) throws Exception {
            delegate.notifyCheckpointComplete(checkpointId);
        }

        @Override
        public void close() throws IOException {
            delegate.close();
        }
    }
}
