package io.onceflow.ops.cli;

import io.onceflow.ops.cluster.FlinkRest;
import io.onceflow.ops.cluster.LocalCluster;
import picocli.CommandLine.Option;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;

/** Which cluster a command talks to ({@code @Mixin}): the local one by default, or any REST URL. */
final class ClusterOptions {

    @Option(
            names = "--cluster-dir",
            paramLabel = "DIR",
            description = "The local cluster's directory (default: var/cluster of this checkout).")
    Path clusterDirectory;

    @Option(
            names = "--rest-url",
            paramLabel = "URL",
            description = "The Flink cluster's REST API (default: the local cluster's, else http://127.0.0.1:8081).")
    URI restUrl;

    static Path home() {
        return Path.of(System.getProperty("onceflow.home", ".")).toAbsolutePath().normalize();
    }

    Path clusterDirectory() {
        return (clusterDirectory != null ? clusterDirectory : home().resolve("var/cluster")).toAbsolutePath().normalize();
    }

    /** Where the CLI remembers how it started each job. */
    Path records() {
        return clusterDirectory().resolve("jobs");
    }

    /** The local cluster's checkpoint directory, when the cluster is the local one. */
    Path localCheckpoints() {
        return restUrl == null ? clusterDirectory().resolve("checkpoints") : null;
    }

    FlinkRest rest() {
        if (restUrl != null) {
            return new FlinkRest(restUrl);
        }
        if (Files.exists(clusterDirectory().resolve("conf/config.yaml"))) {
            return LocalCluster.existing(clusterDirectory()).rest();
        }
        return new FlinkRest(URI.create("http://127.0.0.1:8081"));
    }
}
