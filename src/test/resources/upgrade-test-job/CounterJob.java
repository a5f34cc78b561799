package io.onceflow.upgradetest;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.serialization.SimpleStringSchema;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

import java.util.HashMap;
import java.util.Map;

/**
 * The upgrade tests' job, compiled by the test against each version of the Avro state type
 * Counter: input lines "key,id"; per key a running count in keyed ValueState "counter" (Avro);
 * output lines "key,id,count,fields" (fields: how many fields the running version's Counter
 * has), exactly once into Kafka. Markers replaced per version: the counter's uid, and a failure
 * in open for a version that cannot start.
 */
public final class CounterJob {

    public static void main(String[] args) throws Exception {
        Map<String, String> settings = new HashMap<>();
        for (int i = 0; i < args.length - 1; i++) {
            if (args[i].equals("--set")) {
                String[] pair = args[++i].split("=", 2);
                settings.put(pair[0], pair[1]);
            }
        }
        String bootstrap = settings.get("counter.bootstrap-servers");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.enableCheckpointing(500);
        env.setParallelism(1);
        KafkaSource<String> source = KafkaSource.<String>builder()
                .setBootstrapServers(bootstrap)
                .setTopics(settings.get("counter.input"))
                .setGroupId(settings.get("counter.input") + "-group")
                .setStartingOffsets(OffsetsInitializer.earliest())
                .setValueOnlyDeserializer(new SimpleStringSchema())
                .setProperty("isolation.level", "read_committed")
                .build();
        KafkaSink<String> sink = KafkaSink.<String>builder()
                .setBootstrapServers(bootstrap)
                .setRecordSerializer(KafkaRecordSerializationSchema.builder()
                        .setTopic(settings.get("counter.output"))
                        .setValueSerializationSchema(new SimpleStringSchema())
                        .build())
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(settings.get("counter.output") + "-tx")
                .setProperty("transaction.timeout.ms", "600000")
                .build();
        env.fromSource(source, WatermarkStrategy.noWatermarks(), "input").uid("counter-source")
                .keyBy(line -> line.split(",")[0])
                .process(new Count()).uid(/*COUNTER_UID*/"counter").name("count")
                .sinkTo(sink).uid("counter-sink");
        env.execute("onceflow-upgrade-test");
    }

    static final class Count extends KeyedProcessFunction<String, String, String> {
        private transient ValueState<Counter> counter;

        @Override
        public void open(OpenContext context) {
            /*OPEN*/
            counter = getRuntimeContext().getState(new ValueStateDescriptor<>("counter", new AvroTypeInfo<>(Counter.class)));
        }

        @Override
        public void processElement(String line, Context context, Collector<String> out) throws Exception {
            Counter current = counter.value();
            if (current == null) {
                current = Counter.newBuilder().setCount(0L).build();
            }
            current.setCount(current.getCount() + 1);
            counter.update(current);
            String[] parts = line.split(",");
            out.collect(parts[0] + "," + parts[1] + "," + current.getCount() + "," + current.getSchema().getFields().size());
        }
    }
}
