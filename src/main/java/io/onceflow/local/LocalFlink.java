package io.onceflow.local;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.jobgraph.SavepointRestoreSettings;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.runtime.minicluster.MiniClusterJobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;

import java.nio.file.Path;

/**
 * One Flink cluster in this process (a MiniCluster with one TaskManager and the web UI) that
 * several jobs share, as on a real session cluster: what {@code onceflow demo} runs both jobs on.
 * A local {@code StreamExecutionEnvironment} would start a cluster per job instead, each with its
 * own web UI fighting for the port.
 */
public final class LocalFlink implements AutoCloseable {

    private final MiniCluster cluster;
    private final Configuration configuration;

    private LocalFlink(MiniCluster cluster, Configuration configuration) {
        this.cluster = cluster;
        this.configuration = configuration;
    }

    /**
     * Starts the cluster with {@code slots} task slots and its REST API and web UI on {@code
     * restPort}; the rest of {@code configuration} applies to the cluster and every job.
     */
    public static LocalFlink start(Configuration configuration, int slots, int restPort) throws Exception {
        Configuration conf = new Configuration(configuration);
        conf.set(RestOptions.PORT, restPort);
        conf.set(TaskManagerOptions.NUM_TASK_SLOTS, slots);
        MiniCluster cluster = new MiniCluster(new MiniClusterConfiguration.Builder()
                .setConfiguration(conf)
                .setNumTaskManagers(1)
                .setNumSlotsPerTaskManager(slots)
                .build());
        cluster.start();
        return new LocalFlink(cluster, conf);
    }

    /** A fresh environment to build one job in; submit it with {@link #submit}. */
    public StreamExecutionEnvironment environment() {
        return new StreamExecutionEnvironment(new Configuration(configuration));
    }

    /** Submits the job built in {@code env}, from {@code savepoint} when it is not null. */
    public JobClient submit(StreamExecutionEnvironment env, String name, Path savepoint) throws Exception {
        StreamGraph graph = env.getStreamGraph();
        graph.setJobName(name);
        if (savepoint != null) {
            graph.setSavepointRestoreSettings(SavepointRestoreSettings.forPath(savepoint.toUri().toString(), false));
        }
        var submitted = cluster.submitJob(graph).get();
        return new MiniClusterJobClient(
                submitted.getJobID(), cluster, LocalFlink.class.getClassLoader(),
                MiniClusterJobClient.JobFinalizationBehavior.NOTHING);
    }

    /** The cluster itself: job status, execution graphs, TaskManagers to stop and start. */
    public MiniCluster miniCluster() {
        return cluster;
    }

    @Override
    public void close() throws Exception {
        cluster.close();
    }
}
