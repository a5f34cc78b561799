package io.onceflow.sinks.postgres;

import io.onceflow.testing.Faults;

import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.api.connector.sink2.CommitterInitContext;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.StatefulSinkWriter;
import org.apache.flink.api.connector.sink2.SupportsCommitter;
import org.apache.flink.api.connector.sink2.SupportsWriterState;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.core.io.SimpleVersionedSerializer;

import java.io.IOException;
import java.util.Collection;

/**
 * A {@link PostgresSink} whose committer dies once, right after its {@code COMMIT PREPARED}
 * went through and before Flink learns of it: the "crash during commit" case. The restore then
 * commits the same transaction again, finds it gone, and must prove from the marker that it
 * committed.
 */
public final class CommitFaultInjectingSink<IN>
        implements Sink<IN>, SupportsCommitter<PostgresCommittable>, SupportsWriterState<IN, PostgresWriterState> {

    private static final long serialVersionUID = 1L;

    private final PostgresSink<IN> delegate;
    private final String run;
    private final int failOnCommit;

    /** Fails after the {@code failOnCommit}-th commit call of subtask 0 in {@code run}. */
    public CommitFaultInjectingSink(PostgresSink<IN> delegate, String run, int failOnCommit) {
        this.delegate = delegate;
        this.run = run;
        this.failOnCommit = failOnCommit;
    }

    @Override
    public SinkWriter<IN> createWriter(WriterInitContext context) throws IOException {
        return delegate.createWriter(context);
    }

    @Override
    public StatefulSinkWriter<IN, PostgresWriterState> restoreWriter(
            WriterInitContext context, Collection<PostgresWriterState> recoveredState) throws IOException {
        return delegate.restoreWriter(context, recoveredState);
    }

    @Override
    public SimpleVersionedSerializer<PostgresWriterState> getWriterStateSerializer() {
        return delegate.getWriterStateSerializer();
    }

    @Override
    public Committer<PostgresCommittable> createCommitter(CommitterInitContext context) throws IOException {
        Committer<PostgresCommittable> committer = delegate.createCommitter(context);
        boolean injecting = context.getTaskInfo().getIndexOfThisSubtask() == 0;
        return new Committer<>() {
            private int commits;

            @Override
            public void commit(Collection<CommitRequest<PostgresCommittable>> requests)
                    throws IOException, InterruptedException {
                committer.commit(requests);
                if (injecting && !requests.isEmpty() && ++commits >= failOnCommit
                        && Faults.fire(run, "during-commit")) {
                    throw new IllegalStateException(
                            "Injected fault: committer died after COMMIT PREPARED of " + requests.size()
                                    + " transaction(s)");
                }
            }

            @Override
            public void close() throws Exception {
                committer.close();
            }
        };
    }

    @Override
    public SimpleVersionedSerializer<PostgresCommittable> getCommittableSerializer() {
        return delegate.getCommittableSerializer();
    }
}
