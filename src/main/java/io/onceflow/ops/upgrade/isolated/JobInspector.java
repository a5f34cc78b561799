package io.onceflow.ops.upgrade.isolated;

import org.apache.flink.api.common.typeutils.CompositeTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.client.program.PackagedProgram;
import org.apache.flink.client.program.PackagedProgramUtils;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.memory.DataInputViewStreamWrapper;
import org.apache.flink.runtime.checkpoint.OperatorState;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.checkpoint.metadata.CheckpointMetadata;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.jobgraph.JobVertex;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.OperatorIDPair;
import org.apache.flink.runtime.state.IncrementalRemoteKeyedStateHandle;
import org.apache.flink.runtime.state.KeyGroupsStateHandle;
import org.apache.flink.runtime.state.KeyedBackendSerializationProxy;
import org.apache.flink.runtime.state.KeyedStateHandle;
import org.apache.flink.runtime.state.OperatorBackendSerializationProxy;
import org.apache.flink.runtime.state.OperatorStateHandle;
import org.apache.flink.runtime.state.StreamStateHandle;
import org.apache.flink.runtime.state.metainfo.StateMetaInfoSnapshot;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.node.ArrayNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.flink.state.api.OperatorIdentifier;
import org.apache.flink.state.api.runtime.SavepointLoader;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.streaming.api.graph.StreamNode;

import java.io.File;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Runs inside a class loader that holds only the cluster's Flink jars and the State Processor
 * API (see {@code io.onceflow.ops.upgrade.SavepointStateCheck}), with the job jar loaded child
 * first on top, as a JobManager would load it. It depends on Flink and the JDK only, and talks
 * to its caller in JSON strings, so no class crosses between the loaders.
 *
 * <p>It builds the job's graph by running the jar's main as {@code flink run} would (no job is
 * submitted), and reads a savepoint's metadata and the state meta information at the head of
 * each state handle: state names, kinds and serializer snapshots, read with the new jar's
 * classes. Each serializer snapshot is resolved the way a restore resolves it: restored in the
 * new jar's classes, then the restored serializer's snapshot asked whether it can read the old
 * one ({@link TypeSerializerSnapshot#resolveSchemaCompatibility}).
 */
public final class JobInspector implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String AVRO_SNAPSHOT = "org.apache.flink.formats.avro.typeutils.AvroSerializerSnapshot";

    private final PackagedProgram program;
    private final String graphJson;

    /** Runs the jar's main with {@code args} to get its graph; nothing is submitted. */
    public JobInspector(String jar, String entryClass, String[] args) throws Exception {
        PackagedProgram.Builder builder = PackagedProgram.newBuilder()
                .setJarFile(new File(jar))
                .setArguments(args)
                .setConfiguration(new Configuration());
        if (entryClass != null) {
            builder.setEntryPointClassName(entryClass);
        }
        this.program = builder.build();
        this.graphJson = inspectGraph();
    }

    /**
     * {"operators": [{"id", "uid", "name"}]}: every operator of the graph with the id a restore
     * matches savepoint state by (the user-defined id if set, else the generated one).
     */
    public String graph() {
        return graphJson;
    }

    private String inspectGraph() throws Exception {
        StreamGraph streamGraph = (StreamGraph) withUserClassLoader(() -> {
            try {
                return PackagedProgramUtils.getPipelineFromProgram(program, new Configuration(), 1, true);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        Map<String, String> uidById = new LinkedHashMap<>();
        Map<String, String> nameByUid = new LinkedHashMap<>();
        for (StreamNode node : streamGraph.getStreamNodes()) {
            if (node.getTransformationUID() != null) {
                String uid = node.getTransformationUID();
                uidById.put(OperatorIdentifier.forUid(uid).getOperatorId().toHexString(), uid);
                nameByUid.put(uid, node.getOperatorName());
            }
        }
        JobGraph jobGraph = withUserClassLoader(() -> streamGraph.getJobGraph(program.getUserCodeClassLoader(), null));
        ObjectNode root = JSON.createObjectNode();
        ArrayNode operators = root.putArray("operators");
        for (JobVertex vertex : jobGraph.getVertices()) {
            for (OperatorIDPair pair : vertex.getOperatorIDs()) {
                OperatorID id = pair.getUserDefinedOperatorID().orElse(pair.getGeneratedOperatorID());
                String hex = id.toHexString();
                ObjectNode operator = operators.addObject();
                operator.put("id", hex);
                String uid = uidById.get(hex);
                operator.put("uid", uid);
                operator.put("name", uid != null ? nameByUid.get(uid) : vertex.getName());
            }
        }
        return JSON.writeValueAsString(root);
    }

    /**
     * {"checkpointId", "operators": [{"id", "uid", "name", "hasState", "coordinatorState",
     * "states": [{"name", "kind", "error"?, "serializers": [{"key", "verdict", "oldSchema"?,
     * "newSchema"?, "type"}]}]}]}.
     */
    public String savepoint(String path) throws Exception {
        CheckpointMetadata metadata = withUserClassLoader(() -> {
            try {
                return SavepointLoader.loadSavepointMetadata(path);
            } catch (Exception e) {
                throw new IllegalStateException("Cannot read the savepoint metadata of " + path + ": " + e.getMessage(), e);
            }
        });
        ObjectNode root = JSON.createObjectNode();
        root.put("checkpointId", metadata.getCheckpointId());
        ArrayNode operators = root.putArray("operators");
        for (OperatorState operatorState : metadata.getOperatorStates()) {
            ObjectNode operator = operators.addObject();
            operator.put("id", operatorState.getOperatorID().toHexString());
            operator.put("uid", operatorState.getOperatorUid().orElse(null));
            operator.put("name", operatorState.getOperatorName().orElse(null));
            boolean coordinator = operatorState.getCoordinatorState() != null;
            operator.put("coordinatorState", coordinator);
            boolean hasState = coordinator;
            ArrayNode states = operator.putArray("states");
            Set<String> seen = new LinkedHashSet<>();
            for (OperatorSubtaskState subtask : operatorState.getStates()) {
                hasState |= subtask.hasState();
                for (KeyedStateHandle handle : subtask.getManagedKeyedState()) {
                    describeKeyed(handle, states, seen);
                }
                for (OperatorStateHandle handle : subtask.getManagedOperatorState()) {
                    describeOperatorState(handle, states, seen);
                }
            }
            operator.put("hasState", hasState);
        }
        return JSON.writeValueAsString(root);
    }

    private void describeKeyed(KeyedStateHandle handle, ArrayNode states, Set<String> seen) {
        StreamStateHandle meta;
        if (handle instanceof KeyGroupsStateHandle keyGroups) {
            // Full and canonical snapshots start with the meta information, then the key groups.
            meta = keyGroups.getDelegateStateHandle();
        } else if (handle instanceof IncrementalRemoteKeyedStateHandle incremental) {
            meta = incremental.getMetaDataStateHandle();
        } else {
            if (seen.add("?keyed:" + handle.getClass().getSimpleName())) {
                ObjectNode state = states.addObject();
                state.put("name", "(keyed state)");
                state.put("kind", "KEYED");
                state.put("error", "state handles of type " + handle.getClass().getSimpleName() + " are not inspected");
            }
            return;
        }
        ClassLoader loader = program.getUserCodeClassLoader();
        try (InputStream in = meta.openInputStream()) {
            KeyedBackendSerializationProxy<?> proxy = new KeyedBackendSerializationProxy<>(loader);
            withUserClassLoader(() -> {
                try {
                    proxy.read(new DataInputViewStreamWrapper(in));
                    return null;
                } catch (Exception e) {
                    throw new IllegalStateException(e.getMessage(), e);
                }
            });
            for (StateMetaInfoSnapshot info : proxy.getStateMetaInfoSnapshots()) {
                if (!seen.add("keyed:" + info.getName())) {
                    continue;
                }
                ObjectNode state = states.addObject();
                state.put("name", info.getName());
                String kind = info.getOption(StateMetaInfoSnapshot.CommonOptionsKeys.KEYED_STATE_TYPE);
                state.put("kind", info.getBackendStateType() == StateMetaInfoSnapshot.BackendStateType.PRIORITY_QUEUE
                        ? "TIMERS" : "KEYED " + (kind == null ? info.getBackendStateType().name() : kind));
                ArrayNode serializers = state.putArray("serializers");
                describeSerializer("key", proxy.getKeySerializerSnapshot(), serializers);
                info.getSerializerSnapshotsImmutable().forEach((key, snapshot) -> describeSerializer(key, snapshot, serializers));
            }
        } catch (Exception e) {
            if (seen.add("?keyed-unreadable")) {
                ObjectNode state = states.addObject();
                state.put("name", "(keyed state)");
                state.put("kind", "KEYED");
                state.put("error", "its meta information cannot be read with the new jar's classes: " + rootMessage(e));
            }
        }
    }

    private void describeOperatorState(OperatorStateHandle handle, ArrayNode states, Set<String> seen) {
        ClassLoader loader = program.getUserCodeClassLoader();
        try (InputStream in = handle.openInputStream()) {
            OperatorBackendSerializationProxy proxy = new OperatorBackendSerializationProxy(loader);
            withUserClassLoader(() -> {
                try {
                    proxy.read(new DataInputViewStreamWrapper(in));
                    return null;
                } catch (Exception e) {
                    throw new IllegalStateException(e.getMessage(), e);
                }
            });
            List<StateMetaInfoSnapshot> all = new java.util.ArrayList<>(proxy.getOperatorStateMetaInfoSnapshots());
            all.addAll(proxy.getBroadcastStateMetaInfoSnapshots());
            for (StateMetaInfoSnapshot info : all) {
                if (!seen.add("operator:" + info.getName())) {
                    continue;
                }
                ObjectNode state = states.addObject();
                state.put("name", info.getName());
                String mode = info.getOption(StateMetaInfoSnapshot.CommonOptionsKeys.OPERATOR_STATE_DISTRIBUTION_MODE);
                state.put("kind", info.getBackendStateType().name() + (mode == null ? "" : " " + mode));
                ArrayNode serializers = state.putArray("serializers");
                info.getSerializerSnapshotsImmutable().forEach((key, snapshot) -> describeSerializer(key, snapshot, serializers));
            }
        } catch (Exception e) {
            if (seen.add("?operator-unreadable")) {
                ObjectNode state = states.addObject();
                state.put("name", "(operator state)");
                state.put("kind", "OPERATOR");
                state.put("error", "its meta information cannot be read with the new jar's classes: " + rootMessage(e));
            }
        }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private void describeSerializer(String key, TypeSerializerSnapshot<?> old, ArrayNode out) {
        ObjectNode serializer = out.addObject();
        serializer.put("key", key);
        serializer.put("type", old.getClass().getName());
        try {
            TypeSerializerSchemaCompatibility<?> compatibility = withUserClassLoader(() -> {
                TypeSerializer<?> restored = old.restoreSerializer();
                TypeSerializerSnapshot current = restored.snapshotConfiguration();
                return current.resolveSchemaCompatibility((TypeSerializerSnapshot) old);
            });
            serializer.put("verdict",
                    compatibility.isCompatibleAsIs() ? "COMPATIBLE_AS_IS"
                            : compatibility.isCompatibleAfterMigration() ? "COMPATIBLE_AFTER_MIGRATION"
                            : compatibility.isCompatibleWithReconfiguredSerializer() ? "COMPATIBLE_RECONFIGURED"
                            : "INCOMPATIBLE");
        } catch (RuntimeException e) {
            serializer.put("verdict", "INCOMPATIBLE");
            serializer.put("error", rootMessage(e));
        }
        ArrayNode avro = serializer.putArray("avro");
        collectAvro(old, avro);
    }

    /** The Avro writer and reader schemas of every Avro serializer inside {@code snapshot}. */
    private static void collectAvro(TypeSerializerSnapshot<?> snapshot, ArrayNode out) {
        if (snapshot == null) {
            return;
        }
        if (snapshot.getClass().getName().equals(AVRO_SNAPSHOT)) {
            // Flink keeps both schemas in private fields and offers no accessor; the field-level
            // report needs them, Flink's own verdict above does not.
            Object writer = field(snapshot, "schema");
            Object reader = field(snapshot, "runtimeSchema");
            ObjectNode avro = out.addObject();
            avro.put("writerSchema", writer == null ? null : writer.toString());
            avro.put("readerSchema", reader == null ? null : reader.toString());
            return;
        }
        if (snapshot instanceof CompositeTypeSerializerSnapshot<?, ?> composite) {
            for (TypeSerializerSnapshot<?> nested : composite.getNestedSerializerSnapshots()) {
                collectAvro(nested, out);
            }
        }
    }

    private static Object field(Object target, String name) {
        try {
            Field field = target.getClass().getDeclaredField(name);
            field.setAccessible(true);
            return field.get(target);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    private <T> T withUserClassLoader(Supplier<T> work) {
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(program.getUserCodeClassLoader());
        try {
            return work.get();
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        return message.replaceAll("\\s+", " ").strip();
    }

    @Override
    public void close() {
        program.close();
    }
}
