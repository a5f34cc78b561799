package io.onceflow.sinks.postgres;

import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

import java.io.IOException;
import java.util.UUID;

/**
 * Writes {@link PostgresCommittable}s into checkpoints. Committables outlive the code that wrote
 * them (a savepoint restored by a newer version), so every layout keeps its version number and a
 * new layout gets a new one while the old one stays readable.
 */
final class PostgresCommittableSerializer
        implements SimpleVersionedSerializer<PostgresCommittable> {

    /** Version 1: gid (modified UTF-8), token (two longs), prepared-at epoch millis. */
    static final int VERSION_1 = 1;

    @Override
    public int getVersion() {
        return VERSION_1;
    }

    @Override
    public byte[] serialize(PostgresCommittable committable) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(96);
        out.writeUTF(committable.transactionId());
        out.writeLong(committable.token().getMostSignificantBits());
        out.writeLong(committable.token().getLeastSignificantBits());
        out.writeLong(committable.preparedAtEpochMillis());
        return out.getCopyOfBuffer();
    }

    @Override
    public PostgresCommittable deserialize(int version, byte[] serialized) throws IOException {
        if (version != VERSION_1) {
            throw new IOException(
                    "Cannot read a PostgreSQL sink committable of version "
                            + version
                            + "; this code reads version "
                            + VERSION_1
                            + ".");
        }
        DataInputDeserializer in = new DataInputDeserializer(serialized);
        String transactionId = in.readUTF();
        UUID token = new UUID(in.readLong(), in.readLong());
        long preparedAt = in.readLong();
        return new PostgresCommittable(transactionId, token, preparedAt);
    }
}
