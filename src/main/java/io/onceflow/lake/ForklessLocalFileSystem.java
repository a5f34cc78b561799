package io.onceflow.lake;

import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsPermission;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Hadoop's local file system ({@code file:} warehouses) that sets permissions with a system call
 * instead of a child process.
 *
 * <p>Without Hadoop's native library, which a Flink job does not ship, {@link
 * RawLocalFileSystem#setPermission} runs {@code chmod} as a child process, and Hadoop calls it
 * for every file and directory it creates (twice per file through the checksum file system: the
 * file and its {@code .crc}). Iceberg creates several files at every checkpoint: each writer's
 * data file, the pre-commit aggregator's manifest, the committer's manifest list and metadata.
 * On a busy two-core machine one such {@code chmod} took 74 ms (median, fork to exit) and each
 * lake writer spent about a sixth of its time waiting for them, on the checkpoint's critical
 * path. {@link java.nio.file.Files#setPosixFilePermissions} does the same {@code chmod(2)} in
 * this process.
 *
 * <p>Installed by {@link JdbcCatalogLoader} as {@code fs.file.impl}, so {@code s3a:} and {@code
 * hdfs:} warehouses are not affected. A permission Java cannot express (the sticky bit) or a file
 * store without POSIX permissions goes to Hadoop's own way.
 */
public final class ForklessLocalFileSystem extends LocalFileSystem {

    public ForklessLocalFileSystem() {
        super(new Raw());
    }

    static final class Raw extends RawLocalFileSystem {
        @Override
        public void setPermission(Path path, FsPermission permission) throws IOException {
            if (permission.getStickyBit()) {
                super.setPermission(path, permission);
                return;
            }
            String symbolic = permission.getUserAction().SYMBOL
                    + permission.getGroupAction().SYMBOL
                    + permission.getOtherAction().SYMBOL;
            try {
                Files.setPosixFilePermissions(pathToFile(path).toPath(), PosixFilePermissions.fromString(symbolic));
            } catch (UnsupportedOperationException notPosix) {
                super.setPermission(path, permission);
            }
        }
    }
}
