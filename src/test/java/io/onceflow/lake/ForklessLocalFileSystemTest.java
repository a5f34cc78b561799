package io.onceflow.lake;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.permission.FsPermission;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.assertj.core.api.Assertions.assertThat;

class ForklessLocalFileSystemTest {

    @TempDir Path dir;

    private static FileSystem fileSystem(Path dir) throws Exception {
        Configuration conf = new Configuration();
        conf.set("fs.file.impl", ForklessLocalFileSystem.class.getName());
        conf.set("fs.permissions.umask-mode", "027");
        return FileSystem.newInstance(dir.toUri(), conf);
    }

    @Test
    void filesAndDirectoriesGetHadoopsPermissionsAfterTheUmask() throws Exception {
        try (FileSystem fs = fileSystem(dir)) {
            assertThat(fs).isInstanceOf(ForklessLocalFileSystem.class);
            var table = new org.apache.hadoop.fs.Path(dir.resolve("table/data").toUri());
            assertThat(fs.mkdirs(table)).isTrue();
            var file = new org.apache.hadoop.fs.Path(table, "part-0.parquet");
            try (var out = fs.create(file, false)) {
                out.write(new byte[] {1, 2, 3});
            }

            // Hadoop's defaults, 777 for directories and 666 for files, less the umask 027.
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("table/data"))))
                    .isEqualTo("rwxr-x---");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("table/data/part-0.parquet"))))
                    .isEqualTo("rw-r-----");
            // The checksum file system writes the .crc next to the file, with the same permission.
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("table/data/.part-0.parquet.crc"))))
                    .isEqualTo("rw-r-----");
            try (var in = fs.open(file)) {
                assertThat(in.readAllBytes()).containsExactly(1, 2, 3);
            }
        }
    }

    @Test
    void anExplicitPermissionIsSetAsGiven() throws Exception {
        try (FileSystem fs = fileSystem(dir)) {
            var file = new org.apache.hadoop.fs.Path(dir.resolve("manifest.avro").toUri());
            fs.create(file).close();
            fs.setPermission(file, new FsPermission((short) 0604));
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("manifest.avro"))))
                    .isEqualTo("rw----r--");
        }
    }

    @Test
    void theStickyBitGoesToHadoopsOwnWay() throws Exception {
        try (FileSystem fs = fileSystem(dir)) {
            var shared = new org.apache.hadoop.fs.Path(dir.resolve("shared").toUri());
            fs.mkdirs(shared);
            fs.setPermission(shared, new FsPermission((short) 01777));
            assertThat(fs.getFileStatus(shared).getPermission().getStickyBit()).isTrue();
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("shared"))))
                    .isEqualTo("rwxrwxrwx");
        }
    }
}
