package io.onceflow.sinks.postgres;

import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

import java.io.IOException;

/** Writes {@link PostgresWriterState} into checkpoints, versioned like the committables. */
final class PostgresWriterStateSerializer
        implements SimpleVersionedSerializer<PostgresWriterState> {

    /** Version 1: namespace, sink name (modified UTF-8). */
    static final int VERSION_1 = 1;

    @Override
    public int getVersion() {
        return VERSION_1;
    }

    @Override
    public byte[] serialize(PostgresWriterState state) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(64);
        out.writeUTF(state.namespace());
        out.writeUTF(state.sinkName());
        return out.getCopyOfBuffer();
    }

    @Override
    public PostgresWriterState deserialize(int version, byte[] serialized) throws IOException {
        if (version != VERSION_1) {
            throw new IOException(
                    "Cannot read a PostgreSQL sink writer state of version "
                            + version
                            + "; this code reads version "
                            + VERSION_1
                            + ".");
        }
        DataInputDeserializer in = new DataInputDeserializer(serialized);
        return new PostgresWriterState(in.readUTF(), in.readUTF());
    }
}
