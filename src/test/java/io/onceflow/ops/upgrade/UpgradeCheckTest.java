package io.onceflow.ops.upgrade;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.avro.Schema;
import org.apache.flink.state.api.OperatorIdentifier;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The verdicts of the state check on described graphs and savepoints (what {@code JobInspector}
 * reports), without a cluster: a missing uid refuses unless dropping is allowed, an incompatible
 * Avro change refuses naming operator, state and field, a compatible one passes and says what
 * migrates, stateless operators never matter.
 */
class UpgradeCheckTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SAVEPOINT = "file:/savepoints/savepoint-1";

    private static final String WRITER = CounterJobJars.V1;

    @Test
    void passesWhenEveryStatefulOperatorIsThereWithTheSameTypes() {
        CheckReport report = SavepointStateCheck.evaluate(SAVEPOINT, graph("source", "counter"),
                savepoint(operator("counter", true, state("counter", "COMPATIBLE_AS_IS", WRITER, WRITER)),
                        operator("stateless-map", false)), false);
        assertThat(report.passed()).isTrue();
        assertThat(report.operatorsWithState()).isEqualTo(1);
        assertThat(report.summary()).contains("1 stateful operators").contains("1 states are compatible");
    }

    @Test
    void refusesWhenAStatefulUidIsGoneNamingItAndItsStates() {
        CheckReport report = SavepointStateCheck.evaluate(SAVEPOINT, graph("source", "counter-renamed"),
                savepoint(operator("counter", true, state("counter", "COMPATIBLE_AS_IS", WRITER, WRITER))), false);
        assertThat(report.passed()).isFalse();
        assertThat(report.problems()).singleElement().asString()
                .contains("operator 'counter' has state 'counter' in the savepoint but is not in the new job")
                .contains("--allow-dropping-state");
    }

    @Test
    void dropsStateOfAGoneUidOnlyWhenAllowed() {
        CheckReport report = SavepointStateCheck.evaluate(SAVEPOINT, graph("source"),
                savepoint(operator("counter", true, state("counter", "COMPATIBLE_AS_IS", WRITER, WRITER))), true);
        assertThat(report.passed()).isTrue();
        assertThat(report.dropped()).singleElement().asString().contains("'counter'");
    }

    @Test
    void refusesAnIncompatibleAvroChangeNamingTheField() {
        CheckReport report = SavepointStateCheck.evaluate(SAVEPOINT, graph("counter"),
                savepoint(operator("counter", true, state("counter", "INCOMPATIBLE", WRITER, CounterJobJars.V3_FIELD_RETYPED))), false);
        assertThat(report.passed()).isFalse();
        assertThat(report.problems()).singleElement().asString()
                .startsWith("state 'counter' (KEYED VALUE) of operator 'counter' cannot be read by the new job")
                .contains("field 'note' of Counter: TYPE_MISMATCH");
    }

    @Test
    void passesAFieldAddedWithADefaultAndSaysWhatMigrates() {
        CheckReport report = SavepointStateCheck.evaluate(SAVEPOINT, graph("counter"),
                savepoint(operator("counter", true, state("counter", "COMPATIBLE_AFTER_MIGRATION", WRITER, CounterJobJars.V2_FIELD_ADDED))), false);
        assertThat(report.passed()).isTrue();
        assertThat(report.migrations()).singleElement().asString()
                .contains("state 'counter'").contains("Counter gains field 'lastSeen' (default 0)");
    }

    @Test
    void aStateThatCannotBeReadIsAProblem() {
        ObjectNode broken = JSON.createObjectNode().put("name", "(keyed state)").put("kind", "KEYED")
                .put("error", "its meta information cannot be read with the new jar's classes: Unable to find the class 'io.x.Gone'");
        CheckReport report = SavepointStateCheck.evaluate(SAVEPOINT, graph("counter"), savepoint(operator("counter", true, broken)), false);
        assertThat(report.problems()).singleElement().asString().contains("operator 'counter'").contains("io.x.Gone");
    }

    @Test
    void locatesAvroIncompatibilitiesByFieldName() {
        Schema reader = new Schema.Parser().parse(CounterJobJars.V3_FIELD_RETYPED);
        assertThat(SavepointStateCheck.fieldPath(reader, "/fields/1/type")).isEqualTo("'note'");
        assertThat(SavepointStateCheck.fieldPath(reader, "/nonsense")).isEqualTo("at /nonsense");
    }

    private static JsonNode graph(String... uids) {
        ObjectNode graph = JSON.createObjectNode();
        ArrayNode operators = graph.putArray("operators");
        for (String uid : uids) {
            operators.addObject().put("id", id(uid)).put("uid", uid).put("name", uid);
        }
        return graph;
    }

    private static JsonNode savepoint(ObjectNode... operators) {
        ObjectNode savepoint = JSON.createObjectNode();
        savepoint.putArray("operators").addAll(java.util.List.of(operators));
        return savepoint;
    }

    private static ObjectNode operator(String uid, boolean hasState, ObjectNode... states) {
        ObjectNode operator = JSON.createObjectNode().put("id", id(uid)).put("uid", uid).put("name", uid)
                .put("hasState", hasState).put("coordinatorState", false);
        operator.putArray("states").addAll(java.util.List.of(states));
        return operator;
    }

    private static ObjectNode state(String name, String verdict, String writer, String reader) {
        ObjectNode state = JSON.createObjectNode().put("name", name).put("kind", "KEYED VALUE");
        ObjectNode serializer = state.putArray("serializers").addObject()
                .put("key", "VALUE_SERIALIZER").put("verdict", verdict)
                .put("type", "org.apache.flink.formats.avro.typeutils.AvroSerializerSnapshot");
        serializer.putArray("avro").addObject()
                .put("writerSchema", new Schema.Parser().parse(writer).toString())
                .put("readerSchema", new Schema.Parser().parse(reader).toString());
        return state;
    }

    /** The operator id a restore matches by: Flink's hash of the uid. */
    private static String id(String uid) {
        return OperatorIdentifier.forUid(uid).getOperatorId().toHexString();
    }
}
