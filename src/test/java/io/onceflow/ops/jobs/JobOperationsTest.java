package io.onceflow.ops.jobs;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class JobOperationsTest {

    @TempDir Path dir;

    @Test
    void aJarIsUploadedUnderANameThatChangesWithItsContentOnly() throws Exception {
        Path first = Files.write(dir.resolve("onceflow-job.jar"), new byte[] {1, 2, 3});
        Path sameContent = Files.write(Files.createDirectory(dir.resolve("copy")).resolve("onceflow-job.jar"), new byte[] {1, 2, 3});

        String name = JobOperations.contentName(first);
        assertThat(name).matches("onceflow-job-[0-9a-f]{16}\\.jar");
        assertThat(JobOperations.contentName(sameContent)).isEqualTo(name);

        // A rebuild under the same file name is another jar, not the one on the cluster.
        Files.write(first, new byte[] {1, 2, 4});
        assertThat(JobOperations.contentName(first)).startsWith("onceflow-job-").isNotEqualTo(name);
    }
}
