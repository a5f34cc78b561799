package io.onceflow.config;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What every job's {@code main} does before it builds its graph: read {@code --config FILE
 * [--set section.key=value ...]} and set up checkpointing and the state backend from the {@code
 * job} section. The restart policy stays the cluster's.
 */
public final class JobSubmission {

    private JobSubmission() {}

    /** A job's command line: the YAML file and the overrides, in order. */
    public record Arguments(Path configFile, Map<String, String> overrides) {}

    /**
     * Parses {@code --config FILE [--set section.key=value ...]}.
     *
     * @param job the job's class name, for the usage sentence
     * @throws IllegalArgumentException with the usage when the arguments are wrong
     */
    public static Arguments parse(String[] args, String job, String defaultFile) {
        Path configFile = null;
        Map<String, String> overrides = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--config") && i + 1 < args.length) {
                configFile = Path.of(args[++i]);
            } else if (args[i].equals("--set") && i + 1 < args.length) {
                String[] pair = args[++i].split("=", 2);
                if (pair.length != 2) {
                    throw new IllegalArgumentException("--set takes section.key=value, not " + args[i]);
                }
                overrides.put(pair[0], pair[1]);
            } else {
                throw new IllegalArgumentException(
                        "Usage: " + job + " --config <" + defaultFile + "> [--set section.key=value ...]");
            }
        }
        if (configFile == null) {
            throw new IllegalArgumentException(job + " needs --config <" + defaultFile + ">.");
        }
        return new Arguments(configFile, overrides);
    }

    /**
     * RocksDB with incremental checkpoints, exactly-once checkpoints as the job section says, one
     * at a time (the two-phase-commit sinks hold one open transaction per checkpoint), aligned
     * or not as the job section says.
     */
    public static void configure(StreamExecutionEnvironment env, JobSettings job) {
        Configuration conf = new Configuration();
        conf.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
        conf.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, true);
        if (!job.checkpointDirectory().isEmpty()) {
            conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, job.checkpointDirectory());
        }
        env.configure(conf);
        env.setParallelism(job.parallelism());
        // Without it Flink deep-copies every record between chained operators (Avro's deepCopy:
        // 22% of the analytics job's busiest thread in a JFR profile of onceflow bench). Safe
        // because no operator of these jobs changes a record that another consumer also gets:
        // the operators that set fields (device class, lateness) have the record to themselves,
        // the async lookups copy before they change one, and every fan-out only reads.
        env.getConfig().enableObjectReuse();
        env.enableCheckpointing(job.checkpointInterval().toMillis(), CheckpointingMode.EXACTLY_ONCE);
        var checkpoints = env.getCheckpointConfig();
        checkpoints.setCheckpointTimeout(job.checkpointTimeout().toMillis());
        checkpoints.setMinPauseBetweenCheckpoints(job.minPauseBetweenCheckpoints().toMillis());
        checkpoints.setMaxConcurrentCheckpoints(1);
        checkpoints.enableUnalignedCheckpoints(job.unalignedCheckpoints());
    }
}
